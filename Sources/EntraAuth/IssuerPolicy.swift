import TenantPolicy
import TokenInspection

/// Which `iss` values are accepted.
package enum IssuerPolicy: Hashable, Sendable {
    /// Exactly one of these strings, compared exactly as OpenID Connect requires, e.g.
    /// `https://login.microsoftonline.com/<tid>/v2.0` for a single-tenant deployment.
    case oneOf(Set<String>)
    /// Any Entra v2 (`https://<cloud's login host>/<tid>/v2.0`) or v1 (`https://sts.windows.net/<tid>/`) issuer
    /// whose GUID is the token's own `tid`, for a deployment that serves many tenants. Tying the two together is what
    /// makes `tid` a trust boundary (ENTRA-FACTS 2); `AdminPrincipal.mayAdminister` then confines each caller to its
    /// tenant.
    case entraIssuerOfTokenTenant

    func accepts(_ issuer: String, tenant: TenantID) -> Bool {
        switch self {
        case .oneOf(let issuers): issuers.contains(issuer)
        case .entraIssuerOfTokenTenant: Self.entraTenant(of: issuer) == tenant
        }
    }

    /// The tenant GUID of an Entra issuer of any cloud in its exact form (v1 `https://sts.windows.net/<tid>/`, v2
    /// `https://<login host>/<tid>/v2.0`, no trailing slash); nil for anything else. OpenID Connect compares
    /// issuers exactly, so the lenient spellings `EntraIssuer` reads in token responses are not accepted here.
    static func entraTenant(of issuer: String) -> TenantID? {
        guard let parsed = EntraIssuer.parse(issuer), parsed.version == .v1 || !issuer.hasSuffix("/") else {
            return nil
        }
        return parsed.tenant
    }
}
