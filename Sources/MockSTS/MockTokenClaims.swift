import Foundation
import JWTKit

/// The claims the mock STS puts in its tokens: what Entra v1/v2 tokens carry that TenantGate reads.
package struct MockTokenClaims: JWTPayload, Sendable {
    package var tid: String?
    package var iss: String
    package var idp: String?
    package var oid: String?
    package var sub: String
    package var aud: String
    package var azp: String?
    package var appid: String?
    package var ver: String
    package var wids: [String]?
    package var groups: [String]?
    /// Entra's groups overage (more groups than a token lists): `{"groups": "src1"}` naming a source in
    /// `claimSources`, the Graph link to read them from.
    package var claimNames: [String: String]?
    package var claimSources: [String: [String: String]]?
    package var name: String?
    package var preferredUsername: String?
    package var nonce: String?
    package var iat: Int
    package var nbf: Int
    package var exp: Int

    package init(
        tid: String?,
        iss: String,
        idp: String? = nil,
        oid: String?,
        aud: String,
        clientID: String,
        version: String,
        wids: [String]? = nil,
        groups: [String]? = nil,
        now: Int
    ) {
        self.tid = tid
        self.iss = iss
        self.idp = idp
        self.oid = oid
        self.sub = oid ?? UUID().uuidString.lowercased()
        self.aud = aud
        self.azp = version == "2.0" ? clientID : nil
        self.appid = version == "1.0" ? clientID : nil
        self.ver = version
        self.wids = wids
        self.groups = groups
        self.iat = now
        self.nbf = now
        self.exp = now + 3600
    }

    enum CodingKeys: String, CodingKey {
        case tid, iss, idp, oid, sub, aud, azp, appid, ver, wids, groups, name, nonce, iat, nbf, exp
        case preferredUsername = "preferred_username"
        case claimNames = "_claim_names"
        case claimSources = "_claim_sources"
    }

    package func verify(using algorithm: some JWTAlgorithm) async throws {}
}

extension MockTokenClaims {
    /// The claims of a user in more groups than a token lists: the groups left out, a Graph link in their place.
    package mutating func makeGroupsOverage() {
        groups = nil
        claimNames = ["groups": "src1"]
        claimSources = ["src1": ["endpoint": "https://graph.microsoft.com/v1.0/users/\(sub)/getMemberObjects"]]
    }
}
