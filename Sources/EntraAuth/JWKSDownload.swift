import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches a JWKS document with URLSession. The only code that touches the network, so that `RemoteJWKS` can be
/// tested with an injected fetch.
enum JWKSDownload {
    /// Key sets are a few kilobytes; anything far larger is not one.
    static let maximumBytes = 1 << 20
    /// Seconds before a fetch gives up, so that a request waiting on new keys is answered.
    static let timeout: TimeInterval = 10

    /// Refuses plain HTTP except on loopback: whoever can alter the response chooses which tokens are valid.
    static func validate(_ url: URL) throws(JWKSError) {
        switch (url.scheme?.lowercased(), url.host) {
        case ("https"?, _?), ("http"?, "127.0.0.1"?), ("http"?, "localhost"?), ("http"?, "::1"?), ("http"?, "[::1]"?):
            return
        default:
            throw JWKSError(source: url.absoluteString, reason: "is not an https URL")
        }
    }

    @Sendable static func fetch(_ url: URL) async throws(JWKSError) -> Data {
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw JWKSError(source: url.absoluteString, reason: "could not be fetched: \(error.localizedDescription)")
        }
        guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 else {
            let status = (response as? HTTPURLResponse).map { "HTTP \($0.statusCode)" } ?? "a non-HTTP response"
            throw JWKSError(source: url.absoluteString, reason: "answered \(status)")
        }
        guard data.count <= maximumBytes else {
            throw JWKSError(source: url.absoluteString, reason: "is larger than \(maximumBytes) bytes")
        }
        return data
    }
}
