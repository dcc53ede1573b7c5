import TenantPolicy

/// Which `iss` values the admin API accepts.
public enum IssuerPolicy: Hashable, Sendable {
    /// Exactly one of these strings, compared exactly as OpenID Connect requires, e.g.
    /// `https://login.microsoftonline.com/<tid>/v2.0` for a single-tenant deployment.
    case oneOf(Set<String>)
    /// Any Entra v2 (`https://login.microsoftonline.com/<tid>/v2.0`) or v1 (`https://sts.windows.net/<tid>/`) issuer
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

    /// The tenant GUID of an Entra issuer in canonical form; nil for anything else.
    static func entraTenant(of issuer: String) -> TenantID? {
        let forms = [("https://login.microsoftonline.com/", "/v2.0"), ("https://sts.windows.net/", "/")]
        for (prefix, suffix) in forms
        where issuer.hasPrefix(prefix) && issuer.hasSuffix(suffix)
            && issuer.utf8.count == prefix.utf8.count + 36 + suffix.utf8.count
        {
            return TenantID(bytes: issuer.utf8.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count))
        }
        return nil
    }
}
