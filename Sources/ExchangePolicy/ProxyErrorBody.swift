import Foundation
import Plumbing

/// A JSON error the proxy itself answers with (407, 400, 413, 502, 504…), in the token-error shape so that OAuth
/// client libraries print its description.
package struct ProxyErrorBody: Sendable {
    package let error: String
    package let description: String
    package let correlationID: UUID
    package let timestamp: Date

    package init(error: String, description: String, correlationID: UUID, timestamp: Date) {
        self.error = error
        self.description = description
        self.correlationID = correlationID
        self.timestamp = timestamp
    }

    package func json() -> Data {
        let body: [String: Any] = [
            "error": error,
            "error_description": "TenantGate: \(description)",
            "correlation_id": correlationID.uuidString.lowercased(),
            "timestamp": RFC3339.string(from: timestamp, milliseconds: false),
        ]
        return (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data(#"{"error":"proxy_error"}"#.utf8)
    }
}
