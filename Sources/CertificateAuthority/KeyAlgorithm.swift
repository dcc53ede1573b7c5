import Crypto
import X509
import _CryptoExtras

/// The kinds of key TenantGate generates: P-256 for its own CA and every leaf, RSA 2048 for CAs that must match
/// a peer's RSA setup in a benchmark and for RS256 token signing in the mock STS.
package enum KeyAlgorithm: Sendable, Equatable {
    case p256
    case rsa2048

    /// A fresh private key of this kind. RSA generation is slow (tens of milliseconds): keep it off event loops.
    package func generatePrivateKey() throws -> Certificate.PrivateKey {
        switch self {
        case .p256:
            return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa2048:
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .bits2048))
        }
    }
}
