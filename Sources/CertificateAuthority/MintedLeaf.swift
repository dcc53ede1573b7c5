import Foundation

/// A leaf certificate minted for an intercepted host, with its key, ready for a TLS server context.
public struct MintedLeaf: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    /// The leaf then the CA certificate, PEM, as a server sends its chain.
    public let chainPEM: [String]
    public let notAfter: Date
}
