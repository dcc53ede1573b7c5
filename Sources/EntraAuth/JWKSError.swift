/// A key set that cannot be read, fetched or used, named by its file path or URL with a readable reason.
public struct JWKSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file path or URL the keys came from.
    public let source: String
    /// What is wrong, as a sentence fragment that follows the source.
    public let reason: String

    public init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    public var description: String { "JWKS \(source) \(reason)" }
}
