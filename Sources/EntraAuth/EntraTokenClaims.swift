import JWTKit

/// The claims of an Entra token that TenantGate reads once its signature is verified. Every field is optional so that a missing claim
/// becomes a specific refusal rather than a decoding failure.
struct EntraTokenClaims: JWTPayload {
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var tid: String?
    var oid: String?
    var name: String?
    var preferredUsername: String?
    var upn: String?
    var azp: String?
    var appid: String?
    var wids: [String]?
    /// The sign-in's `nonce` (ID tokens only), compared by the console with the one it sent.
    var nonce: String?

    enum CodingKeys: String, CodingKey {
        case iss, aud, exp, nbf, tid, oid, name, upn, azp, appid, wids, nonce
        case preferredUsername = "preferred_username"
    }

    /// Does nothing: the checks need the configured issuers and audiences and an injected clock, so
    /// `EntraTokenVerifier` makes them after the signature is verified.
    func verify(using _: some JWTAlgorithm) {}
}
