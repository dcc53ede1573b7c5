import ExtrasBase64
import JWTKit

/// The claims of a JWT that tenant decisions use (ENTRA-FACTS 2). Read without verifying the signature: a token
/// is trusted only because it arrived over the upstream TLS connection that TenantGate verified itself.
public struct TokenClaims: Sendable, Equatable {
    public var tid: String?
    public var iss: String?
    public var idp: String?
    public var oid: String?
    public var appid: String?
    public var azp: String?
    public var aud: String?
    public var ver: String?
    public var wids: [String]
    /// Group object IDs, when the token carries them (not on overage, which names a Graph link instead).
    public var groups: [String]
    public var iat: Double?
    public var nbf: Double?
    public var exp: Double?

    static let names: MemberNames = ["tid", "iss", "idp", "oid", "appid", "azp", "aud", "ver", "wids", "groups", "iat", "nbf", "exp"]

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
        // `aud` is a string or an array of strings (RFC 7519 4.1.3).
        aud = members["aud"]?.string ?? members["aud"]?.strings?.first
        ver = members["ver"]?.string
        wids = members["wids"]?.strings ?? []
        groups = members["groups"]?.strings ?? []
        iat = members["iat"]?.number
        nbf = members["nbf"]?.number
        exp = members["exp"]?.number
    }

    /// The client application: `azp` (v2) or `appid` (v1).
    public var applicationID: String? { azp ?? appid }
}

/// Reads JWT claims without verifying (see TokenClaims): jwt-kit splits the compact JWS, and only the payload is
/// decoded — the header and signature are not needed when nothing is verified, and decoding them cost as much
/// again on every exchange.
public enum JWTClaimReader {
    private static let parser = DefaultJWTParser()

    public static func claims(of token: String) -> Result<TokenClaims, TokenInspectionError> {
        claims(of: Array(token.utf8))
    }

    public static func claims(of token: [UInt8]) -> Result<TokenClaims, TokenInspectionError> {
        var dots = 0
        for byte in token where byte == UInt8(ascii: ".") { dots += 1 }
        if dots == 4 { return .failure(.init(.encrypted, "the token is encrypted (JWE) and cannot be read")) }
        guard dots == 2, let parts = try? parser.getTokenParts(token), let payload = base64URLDecoded(parts.payload) else {
            return .failure(.init(.notAJWS, "the token is not a JWS (opaque or malformed)"))
        }
        guard let claims = TokenClaims(payload: payload) else {
            return .failure(.init(.malformedClaims, "the token's claims could not be decoded"))
        }
        return .success(claims)
    }

    /// Base64url without padding (RFC 7515 section 2) to bytes; nil for anything else. Trailing `=` is tolerated
    /// (MSAL's `client_info` sometimes carries it).
    static func base64URLDecoded(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var text = text
        while text.last == UInt8(ascii: "=") { text.removeLast() }
        return try? Base64.decode(bytes: text, options: [.base64UrlAlphabet, .omitPaddingCharacter])
    }
}
