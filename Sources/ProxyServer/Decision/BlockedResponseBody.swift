import Foundation
import TenantPolicy

/// The body of a refused token exchange, in the shape of an Entra token error so OAuth libraries surface it
/// (SPEC 4 "Blocked exchange").
public struct BlockedResponseBody: Sendable {
    public let verdict: ExchangeVerdict
    public let correlationID: UUID
    public let traceID: UUID
    public let timestamp: Date

    public init(verdict: ExchangeVerdict, correlationID: UUID, traceID: UUID, timestamp: Date) {
        self.verdict = verdict
        self.correlationID = correlationID
        self.traceID = traceID
        self.timestamp = timestamp
    }

    /// `AADSTS500212: TenantGate refused … Trace ID: … Correlation ID: … Timestamp: …`, as Entra words it.
    var errorDescription: String {
        let code = verdict.errorCodes.first.map { "AADSTS\($0)" } ?? "TENANTGATE"
        return "\(code): TenantGate refused this token exchange. \(verdict.reason)\r\nTrace ID: "
            + "\(traceID.uuidString.lowercased())\r\nCorrelation ID: \(correlationID.uuidString.lowercased())\r\n"
            + "Timestamp: \(RFC3339.string(from: timestamp, fractional: false))"
    }

    public func json() -> Data {
        let isolation: [String: Any] = [
            "decision": "blocked",
            "directions": verdict.directions.map(\.rawValue),
            "creator_tenant": verdict.creatorTenant.description,
            "sign_in_tenant": verdict.signInTenant.map { $0.description as Any } ?? NSNull(),
        ]
        let body: [String: Any] = [
            "error": "access_denied",
            "error_description": errorDescription,
            "error_codes": verdict.errorCodes,
            "timestamp": RFC3339.string(from: timestamp, fractional: false),
            "trace_id": traceID.uuidString.lowercased(),
            "correlation_id": correlationID.uuidString.lowercased(),
            "tenant_isolation": isolation,
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"access_denied"}"#.utf8)
    }
}

/// RFC 3339 timestamps in UTC.
enum RFC3339 {
    static func string(from date: Date, fractional: Bool) -> String {
        var style = Date.ISO8601FormatStyle(timeZone: .gmt)
        if fractional { style = style.time(includingFractionalSeconds: true) }
        return date.formatted(style)
    }
}
