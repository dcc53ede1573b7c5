import Foundation
import TenantPolicy

/// Unsigned JWTs with the claims Entra puts in them: the proxy reads claims and never verifies the signatures of
/// Microsoft's tokens, so the tests need no key.
package enum UnsignedTokens {
    /// An access token of `tenant` as Microsoft's APIs receive them (v1 issuer), expiring `expiresIn` seconds from now.
    package static func graph(
        tenant: TenantID,
        appID: String = "11111111-2222-3333-4444-555555555555",
        idp: String? = nil,
        oid: String? = nil,
        expiresIn: TimeInterval = 3600
    ) -> String {
        var claims = [
            #""aud":"https://graph.microsoft.com""#, #""iss":"https://sts.windows.net/\#(tenant)/""#,
            #""tid":"\#(tenant)""#, #""appid":"\#(appID)""#,
            #""exp":\#(Int(Date().timeIntervalSince1970 + expiresIn))"#,
        ]
        if let idp { claims.append(#""idp":"\#(idp)""#) }
        if let oid { claims.append(#""oid":"\#(oid)""#) }
        return jwt(payload: "{" + claims.joined(separator: ",") + "}")
    }

    /// A compact JWS of `payload` with a header and a signature that are never checked.
    package static func jwt(payload: String) -> String {
        "\(encoded(#"{"alg":"RS256","typ":"JWT"}"#)).\(encoded(payload)).c2lnbmF0dXJl"
    }

    private static func encoded(_ json: String) -> String {
        Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
