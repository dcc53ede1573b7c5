/// Every credential a request to a resource host carries: each `Authorization` header, `access_token` in the query,
/// and `access_token` in a form body. Each is judged; a request that carries one carrier twice is ambiguous (which
/// copy the resource reads is its own business), and refused before anything is judged.
package struct ResourceCredentials: Sendable, Equatable {
    package enum Credential: Sendable, Hashable {
        /// A bearer token, as the resource would read it.
        case bearer(String)
        /// Another `Authorization` scheme (Basic, PoP…): a credential the proxy cannot read a tenant from.
        case otherScheme(String)
    }

    package private(set) var credentials: [Credential] = []

    /// Longest credential read; a longer one is kept cut (it cannot be an Entra token, so it is judged unreadable).
    private static let maxCredentialBytes = 16 << 10

    /// - Parameters:
    ///   - authorization: the values of every `Authorization` header.
    ///   - target: the request target in origin form (`/path?query`).
    ///   - formBody: the body, when its content type is `application/x-www-form-urlencoded`.
    /// - Returns: the credentials, or why the request is ambiguous.
    package static func read(
        authorization: [String],
        target: String,
        formBody: [UInt8]?
    ) -> Result<ResourceCredentials, ReasonText> {
        guard authorization.count <= 1 else {
            return .failure(
                ReasonText(
                    "the request carries \(authorization.count) Authorization headers; which one the resource reads "
                        + "is ambiguous"
                )
            )
        }
        var found = ResourceCredentials()
        if let header = authorization.first {
            switch Self.credential(ofHeader: header) {
            case .success(let credential): found.credentials.append(credential)
            case .failure(let ambiguity): return .failure(ambiguity)
            }
        }
        let query = target.utf8.firstIndex(of: UInt8(ascii: "?")).map {
            Array(target.utf8[target.utf8.index(after: $0)...])
        }
        for (carrier, bytes) in [("query", query), ("form body", formBody)] {
            guard let bytes else { continue }
            let tokens = Self.accessTokens(inForm: bytes)
            guard tokens.count <= 1 else {
                return .failure(
                    ReasonText("the \(carrier) names access_token \(tokens.count) times; which one counts is ambiguous")
                )
            }
            found.credentials += tokens.map { .bearer($0) }
        }
        return .success(found)
    }

    /// `Bearer <token>` (scheme without case, RFC 9110 11.1); anything else is another scheme. Read as bytes: the
    /// header is on every resource request, and a walk by Characters over a 2 KB token cost more than the decision.
    private static func credential(ofHeader value: String) -> Result<Credential, ReasonText> {
        let bytes = Array(value.utf8)
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let start = bytes.firstIndex(where: { !isSpace($0) }) else { return .success(.otherScheme("")) }
        let schemeEnd = bytes[start...].firstIndex(where: isSpace) ?? bytes.endIndex
        let scheme = bytes[start..<schemeEnd]
        let rest = bytes[schemeEnd...].drop(while: isSpace)
        guard scheme.equalsIgnoringASCIICase("bearer"), let last = rest.lastIndex(where: { !isSpace($0) }) else {
            return .success(.otherScheme(String(decoding: scheme.prefix(32), as: UTF8.self)))
        }
        let token = rest[..<(last + 1)]
        // One header line holding two credentials ("Bearer a, Bearer b") is as ambiguous as two lines.
        guard !token.contains(where: { isSpace($0) || $0 == UInt8(ascii: ",") }) else {
            return .failure(ReasonText("the Authorization header carries more than one credential"))
        }
        return .success(.bearer(String(decoding: token.prefix(maxCredentialBytes), as: UTF8.self)))
    }

    /// The values of every `access_token` field of a form-encoded text; names are decoded and compared without
    /// case, so no spelling slips past.
    private static func accessTokens(inForm bytes: [UInt8]) -> [String] {
        var tokens: [String] = []
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard FormText.decoded(parts[0], limit: 64).utf8.equalsIgnoringASCIICase("access_token") else { continue }
            let value = parts.count == 2 ? FormText.decoded(parts[1], limit: maxCredentialBytes) : ""
            tokens.append(value)
        }
        return tokens
    }
}
