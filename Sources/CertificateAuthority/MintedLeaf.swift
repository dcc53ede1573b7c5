import Foundation

/// A leaf certificate minted for one intercepted host (or several names), with its fresh key, in the forms a TLS
/// server context takes: DER for building contexts without re-parsing, PEM for files and tools.
package struct MintedLeaf: Sendable {
    /// The leaf certificate, DER.
    package let certificateDER: [UInt8]
    /// The leaf's P-256 private key, PKCS#8 DER.
    package let privateKeyDER: [UInt8]
    /// The leaf certificate, PEM.
    package let certificatePEM: String
    /// The leaf's private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    package let privateKeyPEM: String
    /// The leaf then the CA certificate, DER, as a server sends its chain.
    package let chainDER: [[UInt8]]
    /// The leaf then the CA certificate, PEM.
    package let chainPEM: [String]
    /// When the leaf stops being valid: 7 days after minting, or the CA's own end if sooner.
    package let notAfter: Date
}
