import Crypto
import Foundation
import Plumbing

/// The authorization codes the mock has issued and not yet redeemed: each is bound to its client, redirect URI,
/// PKCE challenge and nonce, and is good once, for five minutes, as Entra's are.
final class MockAuthorizationCodes: Sendable {
    struct Grant: Sendable {
        let user: MockConsoleUser
        let clientID: String
        let redirectURI: String
        let codeChallenge: String
        let nonce: String?
        let issuedAt: Date
    }

    enum Refusal: Error {
        case unknownCode, wrongClient, wrongRedirect, wrongVerifier
    }

    /// Every code the mock issues starts so; token requests with other codes play the proxy's scenarios.
    static let prefix = "mock-code-"

    private let grants = Locked([String: Grant]())

    func issue(_ grant: Grant) -> String {
        let code = Self.prefix + (0..<4).map { _ in String(UInt64.random(in: .min ... .max), radix: 36) }.joined()
        grants.withLock { grants in
            grants = grants.filter { Date().timeIntervalSince($0.value.issuedAt) < 300 }
            grants[code] = grant
        }
        return code
    }

    /// Redeems a code once: the client, redirect URI and PKCE verifier must be the ones it was issued for.
    func redeem(code: String, clientID: String?, redirectURI: String?, verifier: String?) -> Result<Grant, Refusal> {
        guard let grant = grants.withLock({ $0.removeValue(forKey: code) }),
            Date().timeIntervalSince(grant.issuedAt) < 300
        else { return .failure(.unknownCode) }
        guard clientID == grant.clientID else { return .failure(.wrongClient) }
        guard redirectURI == grant.redirectURI else { return .failure(.wrongRedirect) }
        guard let verifier, Self.challenge(of: verifier) == grant.codeChallenge else {
            return .failure(.wrongVerifier)
        }
        return .success(grant)
    }

    /// RFC 7636 S256: base64url(SHA-256(verifier)) without padding.
    static func challenge(of verifier: String) -> String {
        Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
