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

    /// The message's first sentence: nothing of the request went upstream.
    package static let refusedLead = "TenantGate refused this request."
    /// In its place when the resource had the request and the change came before its answer (review 61 F3): the
    /// client must not take a write the resource carried out for one that never happened.
    package static let withheldLead =
        "TenantGate withheld the answer to this request, which reached the resource before a policy change refused it."

    /// A refusal's body with the withheld answer's first sentence; nil when it is no refusal's body.
    package static func withheld(_ body: [UInt8]) -> [UInt8]? {
        let lead = Array(refusedLead.utf8)
        guard let start = body.indices.first(where: { body[$0...].starts(with: lead) }) else { return nil }
        return Array(body[..<start]) + Array(withheldLead.utf8) + Array(body[(start + lead.count)...])
    }

    package func json() -> Data {
        let innerError: [String: Any] = [
            "date": RFC3339.string(from: timestamp, milliseconds: false),
            "request-id": correlationID.uuidString.lowercased(),
        ]
        let body: [String: Any] = [
            "error": [
                "code": "AccessDenied",
                "message": "\(Self.refusedLead) \(verdict.reason)",
                "innerError": innerError,
            ] as [String: Any],
            "tenant_isolation": verdict.refusalObject,
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":{"code":"AccessDenied"}}"#.utf8)
    }
}
