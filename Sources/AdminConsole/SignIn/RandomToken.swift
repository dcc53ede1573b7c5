import Crypto
import Foundation

/// Unguessable values for the sign-in (state, nonce, PKCE verifier, attempt IDs) and CSRF tokens.
enum RandomToken {
    /// 32 bytes from the system's CSPRNG, base64url without padding (43 characters, as RFC 7636 allows).
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return base64URL(Data(bytes))
    }

    /// RFC 7636 S256: the challenge sent with the authorization request for `verifier`.
    static func challenge(of verifier: String) -> String {
        base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
