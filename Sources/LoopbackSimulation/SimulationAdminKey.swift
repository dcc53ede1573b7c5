import Foundation
import JWTKit
import TenantPolicy

/// A signing key made for one measurement, and admin API tokens signed with it: a Power Platform Administrator of
/// Contoso, for the audience the measured instances are told to accept. The instances trust this key alone.
struct SimulationAdminKey {
    private struct Claims: JWTPayload {
        var tid: String
        var iss: String
        var aud: String
        var wids: [String]
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    static let audience = "api://tenantgate-simulate"
    private static let powerPlatformAdministrator = "62e90394-69f5-4237-9190-012177145e10"

    private let key = ES256PrivateKey()

    /// The public key as a JWKS document, for `--admin-jwks` or `EntraTokenTrust`.
    func jwksJSON() throws -> String {
        guard let parameters = key.parameters else {
            throw Curl.Failure(description: "the signing key has no public parameters")
        }
        return #"{"keys":[{"kty":"EC","crv":"P-256","kid":"simulate","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
    }

    /// A token valid for an hour.
    func adminToken(tenant: TenantID) async throws -> String {
        let signers = JWTKeyCollection()
        await signers.add(ecdsa: key, kid: "simulate")
        return try await signers.sign(
            Claims(
                tid: tenant.description,
                iss: "https://login.microsoftonline.com/\(tenant)/v2.0",
                aud: Self.audience,
                wids: [Self.powerPlatformAdministrator],
                exp: Int(Date().timeIntervalSince1970) + 3600
            ),
            kid: "simulate"
        )
    }
}
