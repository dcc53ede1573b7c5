import TenantPolicy
import TokenInspection

/// Finds the creator tenant of a connection (SPEC 3): the `tid` of the maker's token in
/// `Proxy-Authorization: Bearer`, else the configured client-address mapping, else the default creator tenant.
enum CreatorResolver {
    /// The creator tenant, or a sentence saying why none could be found (never containing the token).
    static func resolve(
        proxyAuthorization: String?, clientAddress: String?, configuration: ProxyConfiguration
    ) -> Result<TenantID, CreatorUnknown> {
        var problems: [String] = []
        if let proxyAuthorization {
            switch CreatorToken.tenant(fromProxyAuthorization: proxyAuthorization) {
            case .success(let tenant): return .success(tenant)
            case .failure(let error): problems.append("the Proxy-Authorization token was not usable (\(error))")
            }
        }
        if let clientAddress, let tenant = configuration.creatorTenantByClientAddress[clientAddress] {
            return .success(tenant)
        }
        if let tenant = configuration.defaultCreatorTenant { return .success(tenant) }
        if problems.isEmpty { problems.append("no Proxy-Authorization: Bearer token was sent") }
        return .failure(
            CreatorUnknown(
                reason: problems.joined(separator: "; ")
                    + ", no client-address mapping matched, and no default creator tenant is configured"))
    }
}

/// Why the creator tenant is unknown; answered with 407 on token exchanges.
struct CreatorUnknown: Error, Sendable, Equatable {
    let reason: String
}
