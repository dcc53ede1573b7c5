import Foundation
import Plumbing
import TenantPolicy

/// The body of a refused request on a resource host, in Graph's error shape so Graph clients surface it, with the
/// same `tenant_isolation` object as a refused exchange (SPEC 4.2). `request-id` is the audit line's correlation ID.
package struct ResourceRefusalBody: Sendable {
    package let verdict: ExchangeVerdict
    package let correlationID: UUID
    package let timestamp: Date

    package init(verdict: ExchangeVerdict, correlationID: UUID, timestamp: Date) {
        self.verdict = verdict
        self.correlationID = correlationID
        self.timestamp = timestamp
    }

    package func json() -> Data {
        let innerError: [String: Any] = [
            "date": RFC3339.string(from: timestamp, milliseconds: false),
            "request-id": correlationID.uuidString.lowercased(),
        ]
        let body: [String: Any] = [
            "error": [
                "code": "AccessDenied",
                "message": "TenantGate refused this request. \(verdict.reason)",
                "innerError": innerError,
            ] as [String: Any],
            "tenant_isolation": verdict.refusalObject,
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":{"code":"AccessDenied"}}"#.utf8)
    }
}
