import Foundation
import JWTKit

/// Where the admin API's trusted signing keys come from.
package enum JWKSSource: Sendable {
    /// A fixed key set, e.g. read from a file at startup; a new key needs a restart.
    case keys(PublishedKeys)
    /// A JWKS endpoint such as `https://login.microsoftonline.com/<tid>/discovery/v2.0/keys`, fetched and cached so
    /// that Entra's key rollover needs no restart. HTTPS only, except on loopback.
    case url(URL)

    /// Parses JWKS JSON text, checking now that every key can verify signatures.
    package static func json(_ text: String, source: String = "document") throws(JWKSError) -> JWKSSource {
        .keys(try parse(Data(text.utf8), source: source))
    }

    static func parse(_ data: Data, source: String) throws(JWKSError) -> PublishedKeys {
        let published: PublishedKeys
        do {
            let scopes = try JSONDecoder().decode(ScopeList.self, from: data).keys
            published = PublishedKeys(
                jwks: try JSONDecoder().decode(JWKS.self, from: data),
                scopes: Dictionary(
                    scopes.compactMap { scope in scope.kid.map { ($0, scope) } },
                    uniquingKeysWith: { _, last in last }
                )
            )
        } catch let error as DecodingError {
            throw JWKSError(source: source, reason: "is not a JSON Web Key Set: \(summary(of: error))")
        } catch {
            throw JWKSError(source: source, reason: "is not a JSON Web Key Set")
        }
        _ = try TrustedKeys.pinned(published, source: source)
        return published
    }

    /// The members of each key that JWTKit's `JWK` does not keep.
    private struct ScopeList: Decodable {
        let keys: [KeyScope]
    }

    /// One line instead of Foundation's nested debug description.
    private static func summary(of error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the top level" : path
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "not valid JSON"
        case .dataCorrupted(let context): return "unsupported value at \(path(context))"
        case .keyNotFound(let key, let context): return "no \"\(key.stringValue)\" at \(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "wrong type of value at \(path(context))"
        @unknown default: return "unreadable"
        }
    }
}

extension JWKSSource {
    /// Reads a JWKS file, e.g. a copy of the tenant's published keys, and checks it fully before the server starts.
    package static func load(file path: String) throws(JWKSError) -> JWKSSource {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason =
                switch (error as? CocoaError)?.code {
                case .fileReadNoSuchFile?: "does not exist"
                case .fileReadNoPermission?: "is not readable: permission denied"
                default: "cannot be read: \(error.localizedDescription)"
                }
            throw JWKSError(source: path, reason: reason)
        }
        return .keys(try JWKSSource.parse(data, source: path))
    }
}
