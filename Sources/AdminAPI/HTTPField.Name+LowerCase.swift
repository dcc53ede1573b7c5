import HTTPTypes

/// The header names the admin listener sets, spelt in lower case as it has always sent them: HTTP/1 writes a name as
/// spelt, and `HTTPField.Name.eTag` would send `ETag`.
extension HTTPField.Name {
    static let lowercaseCacheControl = lowercase("cache-control")
    static let lowercaseContentType = lowercase("content-type")
    static let lowercaseETag = lowercase("etag")
    static let lowercaseRetryAfter = lowercase("retry-after")
    static let lowercaseWWWAuthenticate = lowercase("www-authenticate")

    private static func lowercase(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("'\(name)' is a valid field name") }
        return field
    }
}
