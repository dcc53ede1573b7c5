/// Why the CA could not be loaded, created or used; names the file and the fix.
public struct CertificateAuthorityError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case keyReadableByOthers
        case onlyOneFilePresent
        case unreadable
        case keyDoesNotMatch
        case notACertificateAuthority
        case cannotWrite
        case unsupportedKey
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
