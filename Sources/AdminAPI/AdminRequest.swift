import Foundation
import Hummingbird

/// One admin API request, read whole: what the endpoints need of it, independent of the HTTP server.
package struct AdminRequest: Sendable {
    /// Policies are small; a megabyte is far more than any real one.
    package static let maximumBodyBytes = 1 << 20

    package let method: String
    /// The path without the query string, for error messages.
    package let path: String
    /// Header names lowercased.
    package let headers: [String: String]
    package let body: Data

    package init(method: String, path: String, headers: [String: String] = [:], body: Data = Data()) {
        self.method = method.uppercased()
        self.path = path
        self.headers = headers
        self.body = body
    }

    /// Reads a request with its body; a body over `maximumBodyBytes` throws Hummingbird's 413 error.
    static func read(_ request: Request) async throws -> AdminRequest {
        let body = try await request.body.collect(upTo: maximumBodyBytes)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return AdminRequest(
            method: request.method.rawValue,
            path: request.uri.path,
            headers: headers,
            body: Data(body.readableBytesView)
        )
    }
}
