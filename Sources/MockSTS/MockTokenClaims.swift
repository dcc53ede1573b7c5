import JWTKit

/// The claims the mock STS puts in its tokens: what Entra v1/v2 tokens carry that TenantGate reads.
public struct MockTokenClaims: JWTPayload, Sendable {
    public var tid: String?
    public var iss: String
    public var idp: String?
    public var oid: String
    public var sub: String
    public var aud: String
    public var azp: String?
    public var appid: String?
    public var ver: String
    public var wids: [String]?
    public var groups: [String]?
    public var iat: Int
    public var nbf: Int
    public var exp: Int

    public init(
        tid: String?, iss: String, idp: String? = nil, oid: String, aud: String, clientID: String, version: String,
        wids: [String]? = nil, groups: [String]? = nil, now: Int
    ) {
        self.tid = tid
        self.iss = iss
        self.idp = idp
        self.oid = oid
        self.sub = oid
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

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
