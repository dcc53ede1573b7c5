import Foundation
import JWTKit

/// The claims of a JWT that tenant decisions use (ENTRA-FACTS 2). Read without verifying the signature: a token
/// is trusted only because it arrived over the upstream TLS connection that TenantGate verified itself.
public struct TokenClaims: Sendable, Equatable, Decodable {
    public var tid: String?
    public var iss: String?
    public var idp: String?
    public var oid: String?
    public var appid: String?
    public var azp: String?
    public var aud: String?
    public var ver: String?
    public var wids: [String]
    public var iat: Double?
    public var nbf: Double?
    public var exp: Double?

    enum CodingKeys: String, CodingKey {
        case tid, iss, idp, oid, appid, azp, aud, ver, wids, iat, nbf, exp
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tid = try? container.decodeIfPresent(String.self, forKey: .tid)
        iss = try? container.decodeIfPresent(String.self, forKey: .iss)
        idp = try? container.decodeIfPresent(String.self, forKey: .idp)
        oid = try? container.decodeIfPresent(String.self, forKey: .oid)
        appid = try? container.decodeIfPresent(String.self, forKey: .appid)
        azp = try? container.decodeIfPresent(String.self, forKey: .azp)
        // `aud` is a string or an array of strings (RFC 7519 4.1.3).
        if let single = try? container.decodeIfPresent(String.self, forKey: .aud) {
            aud = single
        } else {
            aud = (try? container.decodeIfPresent([String].self, forKey: .aud))?.first
        }
        ver = try? container.decodeIfPresent(String.self, forKey: .ver)
        wids = (try? container.decodeIfPresent([String].self, forKey: .wids)) ?? []
        iat = try? container.decodeIfPresent(Double.self, forKey: .iat)
        nbf = try? container.decodeIfPresent(Double.self, forKey: .nbf)
        exp = try? container.decodeIfPresent(Double.self, forKey: .exp)
    }

    /// The client application: `azp` (v2) or `appid` (v1).
    public var applicationID: String? { azp ?? appid }
}

/// A payload type for jwt-kit's synchronous parser; verification is deliberately not done here (see TokenClaims).
struct UnverifiedClaims: JWTPayload {
    let claims: TokenClaims

    init(from decoder: any Decoder) throws {
        claims = try TokenClaims(from: decoder)
    }

    func encode(to encoder: any Encoder) throws {}

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Reads JWT claims with jwt-kit's synchronous `DefaultJWTParser`, so event-loop code never awaits.
public enum JWTClaimReader {
    private static let parser = DefaultJWTParser()

    public static func claims(of token: String) -> Result<TokenClaims, TokenInspectionError> {
        claims(of: Array(token.utf8))
    }

    public static func claims(of token: [UInt8]) -> Result<TokenClaims, TokenInspectionError> {
        var dots = 0
        for byte in token where byte == UInt8(ascii: ".") { dots += 1 }
        if dots == 4 { return .failure(.init(.encrypted, "the token is encrypted (JWE) and cannot be read")) }
        guard dots == 2 else { return .failure(.init(.notAJWS, "the token is not a JWS (opaque or malformed)")) }
        do {
            let (_, payload, _) = try parser.parse(token, as: UnverifiedClaims.self)
            return .success(payload.claims)
        } catch {
            return .failure(.init(.malformedClaims, "the token's header or claims could not be decoded"))
        }
    }
}
