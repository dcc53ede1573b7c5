import Foundation

/// A leaf certificate minted for one intercepted host (or several names), with its fresh key, in the forms a TLS
/// server context takes: DER for building contexts without re-parsing, PEM for files and tools.
public struct MintedLeaf: Sendable {
    /// The leaf certificate, DER.
    public let certificateDER: [UInt8]
    /// The leaf's P-256 private key, PKCS#8 DER.
    public let privateKeyDER: [UInt8]
    /// The leaf certificate, PEM.
    public let certificatePEM: String
    /// The leaf's private key, PKCS#8 PEM (`BEGIN PRIVATE KEY`).
    public let privateKeyPEM: String
    /// The leaf then the CA certificate, DER, as a server sends its chain.
    public let chainDER: [[UInt8]]
    /// The leaf then the CA certificate, PEM.
    public let chainPEM: [String]
    /// When the leaf stops being valid: 7 days after minting, or the CA's own end if sooner.
    public let notAfter: Date
}
