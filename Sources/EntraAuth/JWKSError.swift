/// A key set that cannot be read, fetched or used, named by its file path or URL with a readable reason.
package struct JWKSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file path or URL the keys came from.
    package let source: String
    /// What is wrong, as a sentence fragment that follows the source.
    package let reason: String

    package init(source: String, reason: String) {
        self.source = source
        self.reason = reason
    }

    package var description: String { "JWKS \(source) \(reason)" }
}
