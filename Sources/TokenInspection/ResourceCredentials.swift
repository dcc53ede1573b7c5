import ExtrasBase64

/// Every credential a request to a resource host carries: each `Authorization` header, `access_token` in the query,
/// `access_token` in a form body, a `Cookie` (a session, which names no tenant the proxy can read), and any token
/// anywhere else in them or in another header (`EmbeddedTokens`). Each is judged; a request that carries one named
/// carrier twice is ambiguous (which copy the resource reads is its own business), and refused before anything is
/// judged.
package struct ResourceCredentials: Sendable, Equatable {
    package enum Credential: Sendable, Hashable {
        /// A bearer token, as the resource would read it.
        case bearer(String)
        /// Another `Authorization` scheme (Basic, PoP…): a credential the proxy cannot read a tenant from.
        case otherScheme(String)
        /// A `Cookie` header beside no bearer in the `Authorization` header: SharePoint, Outlook on the web, Dynamics
        /// and Azure DevOps accept a session cookie in place of a token. Its value is never kept.
        case cookie
    }

    package private(set) var credentials: [Credential] = []
    /// The values of the credentials the proxy cannot read (another scheme's, a session cookie's): never judged,
    /// only told apart, so that each is audited at its first request as a token is (review 27 saw every Azure
    /// DevOps PAT of a creator share one line). Held for the request only, as a bearer token is.
    package private(set) var unreadValues: [String] = []

    /// Longest credential read: more than a request head may hold (80 KiB), so a token in a header or the target is
    /// always read whole. A longer one (only a form body can carry it) is refused, not cut: a cut token reads as
    /// opaque, which `--unreadable-resource-token allow` lets through (review 43 F2: a genuine Entra token with a
    /// 17 KB payload passed that way, when credentials were cut at 16 KiB).
    private static let maxCredentialBytes = 96 << 10
    /// Most tokens one request may carry: each is judged, and more is no client's doing. More is refused, not
    /// dropped (review 43 F1: 16 decoys of an allowed tenant let a 17th, of a blocked one, pass unjudged).
    package static let maximumTokens = 16

    /// - Parameters:
    ///   - authorization: the values of every `Authorization` header.
    ///   - target: the request target in origin form (`/path?query`).
    ///   - formBody: the body, when its content type is `application/x-www-form-urlencoded`.
    ///   - cookie: the request's `Cookie` header values, joined; nil without one.
    ///   - otherHeaders: the values of its other headers, searched for tokens only.
    /// - Returns: the credentials, or why the request is ambiguous.
    package static func read(
        authorization: [String],
        target: String,
        formBody: [UInt8]?,
        cookie: String? = nil,
        otherHeaders: [String] = []
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
        var headerCarriesBearer = false
        if let header = authorization.first {
            switch Self.credential(ofHeader: header) {
            case .success(let credential):
                found.credentials.append(credential)
                if case .bearer = credential { headerCarriesBearer = true } else { found.unreadValues.append(header) }
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
            if let long = tokens.first(where: { $0.utf8.count > maxCredentialBytes }) {
                return .failure(tooLong(long))
            }
            found.credentials += tokens.map { .bearer($0) }
        }
        // A bearer in the header is what Microsoft's APIs authenticate by when one is there (a forged one gains
        // nothing); beside a token only in the query or the form, which a resource may ignore, the session counts.
        if let cookie, !headerCarriesBearer {
            found.credentials.append(.cookie)
            found.unreadValues.append(cookie)
        }
        // A bearer header is its own token; another scheme's value may hold one (`PoP eyJ…`), or its Basic
        // credentials may (Git Credential Manager sends an Entra token as the password to Azure Repos).
        var elsewhere = headerCarriesBearer ? [] : authorization.map { EmbeddedTokens.find(in: $0) }
        if !headerCarriesBearer, let basic = authorization.first.flatMap(Self.basicCredentials) {
            elsewhere.append(EmbeddedTokens.find(in: basic))
        }
        elsewhere.append(EmbeddedTokens.find(in: target))
        elsewhere += otherHeaders.map { EmbeddedTokens.find(in: $0) }
        if let cookie { elsewhere.append(EmbeddedTokens.find(in: cookie)) }
        if let formBody { elsewhere.append(EmbeddedTokens.find(in: formBody)) }
        for tokens in elsewhere {
            if let refusal = found.addEmbeddedTokens(tokens) { return .failure(refusal) }
        }
        return .success(found)
    }

    /// Tokens found outside the named carriers, each judged as a bearer (once, however often it is there); or why
    /// the request is refused: a token too long to read, or more tokens than are judged.
    private mutating func addEmbeddedTokens(_ tokens: [String]) -> ReasonText? {
        for token in tokens {
            guard token.utf8.count <= Self.maxCredentialBytes else { return Self.tooLong(token) }
            guard !credentials.contains(.bearer(token)) else { continue }
            guard credentials.count < Self.maximumTokens else {
                return ReasonText(
                    "the request carries more than \(Self.maximumTokens) tokens; each would be judged, and a "
                        + "client needs no more, so it is refused"
                )
            }
            credentials.append(.bearer(token))
        }
        return nil
    }

    private static func tooLong(_ token: String) -> ReasonText {
        ReasonText(
            "the request carries a credential of \(token.utf8.count) bytes, longer than the \(maxCredentialBytes) "
                + "read; it is refused rather than judged on a part"
        )
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
        guard token.count <= maxCredentialBytes else {
            return .failure(tooLong(String(decoding: token, as: UTF8.self)))
        }
        return .success(.bearer(String(decoding: token, as: UTF8.self)))
    }

    /// The decoded `user:password` of a `Basic` header (RFC 7617), read as the most lenient decoder reads base64
    /// (Python's, Node's): characters outside the alphabet and padding anywhere skipped, the URL-safe alphabet too;
    /// nil for another scheme. Review 64 F2: a token of a refused tenant as the password was judged as an opaque
    /// credential of no tenant; review 65 F2: an extra `==` hid it from a strict decoder.
    private static func basicCredentials(ofHeader value: String) -> [UInt8]? {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let bytes = Array(value.utf8).drop(while: isSpace)
        guard let schemeEnd = bytes.firstIndex(where: isSpace),
            bytes[..<schemeEnd].equalsIgnoringASCIICase("basic")
        else { return nil }
        var encoded: [UInt8] = bytes[schemeEnd...].compactMap { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                byte
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: nil
            }
        }
        if encoded.count % 4 == 1 { encoded.removeLast() }
        while encoded.count % 4 != 0 { encoded.append(UInt8(ascii: "=")) }
        return try? Base64.decode(bytes: encoded)
    }

    /// The values of every `access_token` field of a form-encoded text, fields parted by `&` or `;` (HTML 4's
    /// alternative, which some servers still honour). A name counts as `access_token` however a server might fold
    /// it: decoded (`%XX`, `%uXXXX` as System.Web decodes it, `+`), then its letters and digits alone, without case,
    /// so `access.token`, `access_token[]`, ` Access-Token` are read too (PHP, for one, turns `.` and ` ` into `_`
    /// and drops `[]`).
    private static func accessTokens(inForm bytes: [UInt8]) -> [String] {
        var tokens: [String] = []
        for pair in bytes.split(whereSeparator: { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: ";") }) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard namesAccessToken(parts[0]) else { continue }
            // One byte past the limit is enough to tell a value too long to read.
            let value = parts.count == 2 ? FormText.decoded(parts[1], limit: maxCredentialBytes + 1) : ""
            tokens.append(value)
        }
        return tokens
    }

    private static let foldedAccessToken = Array("accesstoken".utf8)

    /// Read to its end however long (PHP drops any number of leading spaces), keeping at most one letter or digit
    /// more than `accesstoken` has.
    private static func namesAccessToken(_ name: ArraySlice<UInt8>) -> Bool {
        let decoded = FormText.decodedBytes(FormText.decodedUnicodeEscapes(name), limit: name.count)
        var folded: [UInt8] = []
        for byte in decoded where folded.count <= foldedAccessToken.count {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): folded.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): folded.append(byte + 32)
            default: break
            }
        }
        return folded == foldedAccessToken
    }
}
