import Foundation
import Plumbing
import TenantPolicy

/// The body of a refused token exchange, in the shape of an Entra token error so OAuth libraries surface it
/// (SPEC 4 "Blocked exchange").
package struct BlockedResponseBody: Sendable {
    package let verdict: ExchangeVerdict
    package let correlationID: UUID
    package let traceID: UUID
    package let timestamp: Date

    package init(verdict: ExchangeVerdict, correlationID: UUID, traceID: UUID, timestamp: Date) {
        self.verdict = verdict
        self.correlationID = correlationID
        self.traceID = traceID
        self.timestamp = timestamp
    }

    /// `AADSTS500212: TenantGate refused … Trace ID: … Correlation ID: … Timestamp: …`, as Entra words it.
    package var errorDescription: String {
        let code = verdict.errorCodes.first.map { "AADSTS\($0)" } ?? "TENANTGATE"
        return "\(code): TenantGate refused this token exchange. \(verdict.reason)\r\nTrace ID: "
            + "\(traceID.uuidString.lowercased())\r\nCorrelation ID: \(correlationID.uuidString.lowercased())\r\n"
            + "Timestamp: \(RFC3339.string(from: timestamp, milliseconds: false))"
    }

    package func json() -> Data {
        let body: [String: Any] = [
            "error": "access_denied",
            "error_description": errorDescription,
            "error_codes": verdict.errorCodes,
            "timestamp": RFC3339.string(from: timestamp, milliseconds: false),
            "trace_id": traceID.uuidString.lowercased(),
            "correlation_id": correlationID.uuidString.lowercased(),
            "tenant_isolation": verdict.refusalObject,
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"access_denied"}"#.utf8)
    }
}

extension ExchangeVerdict {
    /// The `tenant_isolation` object of a refusal's body, for an exchange and a resource request alike (SPEC 4, 4.2).
    var refusalObject: [String: Any] {
        [
            "decision": "blocked",
            "directions": directions.map(\.rawValue),
            "creator_tenant": creatorTenant.description,
            "sign_in_tenant": signInTenant.map { $0.description as Any } ?? NSNull(),
        ]
    }
}
