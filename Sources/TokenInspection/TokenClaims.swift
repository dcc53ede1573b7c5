import ExtrasBase64

/// The claims of a JWT that tenant decisions use (ENTRA-FACTS 2). Read without verifying the signature: a token
/// is trusted only because it arrived over the upstream TLS connection that TenantGate verified itself.
package struct TokenClaims: Sendable, Equatable {
    package var tid: String?
    package var iss: String?
    package var idp: String?
    package var oid: String?
    package var appid: String?
    package var azp: String?
    /// The audience: in an ID token, the client application it was issued to (Entra's ID token names it nowhere else).
    package var aud: String?
    /// Group object IDs, when the token carries them (not on overage, which names a Graph link instead).
    package var groups: [String]
    /// Whether `groups` is every group of the user the token could have named: false on overage (`_claim_names`, or
    /// `hasgroups` in the implicit flow: the groups are behind a Graph link) and past `maximumGroups`. The user is then
    /// in groups nobody here can see, which a list of named groups must not take as none.
    package var groupsListedInFull: Bool
    /// When the token expires, in seconds since 1970 (`exp`).
    package var exp: Double?

    /// Only the claims decisions use are read; the scanner validates and skips the rest without decoding them.
    static let names: MemberNames = [
        "tid", "iss", "idp", "oid", "appid", "azp", "aud", "groups", "exp", "_claim_names", "hasgroups",
    ]
    /// The most groups kept of one token: Entra lists at most 200 in a JWT before it turns to overage.
    static let maximumGroups = 256

    /// The claims of a JWT payload; a claim of an unexpected type reads as absent. Nil when the payload is not a
    /// well-formed JSON object.
    init?(payload: some Collection<UInt8>) {
        guard let members = JSONObjectScanner.members(of: payload, wanted: Self.names) else { return nil }
        tid = members["tid"]?.string
        iss = members["iss"]?.string
        idp = members["idp"]?.string
        oid = members["oid"]?.string
        appid = members["appid"]?.string
        azp = members["azp"]?.string
        aud = members["aud"]?.string
        let listed = members["groups"]?.strings ?? []
        groups = Array(listed.prefix(Self.maximumGroups))
        groupsListedInFull =
            members["_claim_names"] == nil && members["hasgroups"] == nil && listed.count <= Self.maximumGroups
        exp = members["exp"]?.number
    }

    /// The client application: `azp` (v2) or `appid` (v1).
    package var applicationID: String? { azp ?? appid }
}

/// Reads JWT claims without verifying (see TokenClaims). Only the payload of the compact JWS is decoded: the
/// header and signature are not needed when nothing is verified. The token is read where it lies, without a copy
/// (jwt-kit's parser copied every token into a new array just to find its two periods).
package enum JWTClaimReader {
    package static func claims(of token: String) -> Result<TokenClaims, TokenInspectionError> {
        var token = token
        return token.withUTF8 { claims(in: $0) }
    }

    package static func claims(of token: [UInt8]) -> Result<TokenClaims, TokenInspectionError> {
        token.withUnsafeBufferPointer { claims(in: $0) }
    }

    /// A JWS is `header.payload.signature` (RFC 7515 7.1); five parts (four periods) is an encrypted JWE.
    private static func claims(in token: UnsafeBufferPointer<UInt8>) -> Result<TokenClaims, TokenInspectionError> {
        var periods = 0
        var firstPeriod = 0
        var secondPeriod = 0
        for index in token.indices where token[index] == UInt8(ascii: ".") {
            periods += 1
            if periods == 1 { firstPeriod = index } else if periods == 2 { secondPeriod = index }
        }
        if periods == 4 { return .failure(.init(.encrypted, "the token is encrypted (JWE) and cannot be read")) }
        guard periods == 2,
            let payload = base64URLDecoded(UnsafeBufferPointer(rebasing: token[(firstPeriod + 1)..<secondPeriod]))
        else {
            return .failure(.init(.notAJWS, "the token is not a JWS (opaque or malformed)"))
        }
        guard let claims = TokenClaims(payload: payload) else {
            return .failure(.init(.malformedClaims, "the token's claims could not be decoded"))
        }
        return .success(claims)
    }

    /// Base64url without padding (RFC 7515 section 2) to bytes; nil for anything else. Trailing `=` is tolerated
    /// (MSAL's `client_info` sometimes carries it).
    static func base64URLDecoded(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var end = text.count
        while end > 0, text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        return try? Base64.decode(
            bytes: UnsafeBufferPointer(rebasing: text[..<end]),
            options: [.base64UrlAlphabet, .omitPaddingCharacter]
        )
    }
}
