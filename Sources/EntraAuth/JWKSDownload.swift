import Foundation

/// Fetches a JWKS document through `EntraHTTP`, so that `RemoteJWKS` can be tested with an injected fetch.
enum JWKSDownload {
    static func validate(_ url: URL) throws(JWKSError) {
        guard EntraHTTP.isAcceptable(url) else {
            throw JWKSError(source: url.absoluteString, reason: "is not an https URL")
        }
    }

    @Sendable static func fetch(_ url: URL) async throws(JWKSError) -> Data {
        let answer: EntraHTTP.Answer
        do {
            answer = try await EntraHTTP.get(url)
        } catch {
            throw JWKSError(source: url.absoluteString, reason: error.description)
        }
        guard answer.status == 200 else {
            throw JWKSError(source: url.absoluteString, reason: "answered HTTP \(answer.status)")
        }
        return answer.body
    }
}
