/// Reads `Bearer <token>` from an `Authorization` or `Proxy-Authorization` value, the scheme in any letter case
/// (RFC 7235 section 2.1). One reader for both headers, so both refuse the same malformed values.
package enum BearerCredentials {
    /// Entra's tokens are a few KiB; anything this large is refused before it is decoded.
    package static let maximumTokenBytes = 16 * 1024

    package static func token(in headerValue: String?) -> Result<Substring, AuthenticationFailure> {
        guard let headerValue else { return .failure(.missingCredentials) }
        let parts = headerValue.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .failure(.notBearer) }
        guard parts[1].utf8.count <= maximumTokenBytes else { return .failure(.malformedToken) }
        return .success(parts[1])
    }
}
