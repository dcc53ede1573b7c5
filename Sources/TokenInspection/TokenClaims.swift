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
    /// Group object IDs, when the token carries them (not on overage, which names a Graph link instead).
    public var groups: [String]
    public var iat: Double?
    public var nbf: Double?
    public var exp: Double?

    enum CodingKeys: String, CodingKey {
        case tid, iss, idp, oid, appid, azp, aud, ver, wids, groups, iat, nbf, exp
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
        groups = (try? container.decodeIfPresent([String].self, forKey: .groups)) ?? []
        iat = try? container.decodeIfPresent(Double.self, forKey: .iat)
        nbf = try? container.decodeIfPresent(Double.self, forKey: .nbf)
        exp = try? container.decodeIfPresent(Double.self, forKey: .exp)
    }

    /// The client application: `azp` (v2) or `appid` (v1).
    public var applicationID: String? { azp ?? appid }
}

/// Reads JWT claims without verifying (see TokenClaims): jwt-kit splits the compact JWS, and only the payload is
/// decoded — the header and signature are not needed when nothing is verified, and decoding them cost as much
/// again on every exchange.
public enum JWTClaimReader {
    private static let parser = DefaultJWTParser()
    private static let decoder = JSONDecoder()

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
        do {
            return .success(try decoder.decode(TokenClaims.self, from: payload))
        } catch {
            return .failure(.init(.malformedClaims, "the token's claims could not be decoded"))
        }
    }

    /// Base64url without padding (RFC 7515 section 2) to bytes; nil for anything else.
    static func base64URLDecoded(_ text: ArraySlice<UInt8>) -> Data? {
        var standard = [UInt8]()
        standard.reserveCapacity(text.count + 3)
        for byte in text {
            switch byte {
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            default: standard.append(byte)
            }
        }
        while standard.count % 4 != 0 { standard.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(standard))
    }
}
