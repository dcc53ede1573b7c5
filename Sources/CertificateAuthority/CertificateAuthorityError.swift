/// Why the CA could not be loaded, created or used. It names the file involved and, where there is one, the fix, so
/// an administrator can act on the message alone (STYLE 6). The code can grow without breaking callers.
package struct CertificateAuthorityError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for callers that branch on it.
    package enum Code: Sendable, Equatable {
        /// The key file is readable or writable by group or others (SPEC 5).
        case keyReadableByOthers
        /// Only one of the certificate and key files exists.
        case onlyOneFilePresent
        /// A file could not be read, or holds no PEM block of the expected kind.
        case unreadable
        /// The key is not the private key of the certificate.
        case keyDoesNotMatch
        /// The certificate is not a CA certificate (basicConstraints CA missing or false).
        case notACertificateAuthority
        /// A file or directory could not be created or written.
        case cannotWrite
        /// The key is of a kind the CA cannot sign with, or is encrypted.
        case unsupportedKey
        /// The CA has expired (or is not yet valid), so it cannot issue a leaf.
        case expired
        /// The name to put in a leaf is empty or not a host name.
        case invalidHost
    }

    package let code: Code
    /// The file the error is about, when there is one.
    package let path: String?
    /// A readable sentence naming the file and the fix.
    package let message: String

    package init(_ code: Code, _ message: String, path: String? = nil) {
        self.code = code
        self.message = message
        self.path = path
    }

    package var description: String { message }
}
