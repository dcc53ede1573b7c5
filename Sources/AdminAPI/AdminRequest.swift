import Foundation
import Plumbing

/// One admin API request, read whole (bodies are bounded by the handler).
package struct AdminRequest: Sendable {
    package let method: String
    /// The path without the query string.
    package let path: String
    package let query: String?
    /// Header names lowercased.
    package let headers: [String: String]
    package let body: Data

    package init(method: String, uri: String, headers: [(String, String)], body: Data = Data()) {
        self.method = method.uppercased()
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = parts.first.map(String.init) ?? uri
        query = parts.count > 1 ? String(parts[1]) : nil
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }

    /// The path's segments, percent-decoded.
    var segments: [String] {
        path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
    }
}
