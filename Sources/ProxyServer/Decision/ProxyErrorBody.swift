import Foundation

/// A JSON error the proxy itself answers with (407, 400, 413, 502, 504…), in the token-error shape so that OAuth
/// client libraries print its description.
struct ProxyErrorBody: Sendable {
    let error: String
    let description: String
    let correlationID: UUID

    func json() -> Data {
        let body: [String: Any] = [
            "error": error,
            "error_description": "TenantGate: \(description)",
            "correlation_id": correlationID.uuidString.lowercased(),
            "timestamp": RFC3339.string(from: Date(), fractional: false),
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"proxy_error"}"#.utf8)
    }
}
