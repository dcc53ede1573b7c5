import TenantPolicy

extension CrossTenantAccessPolicy {
    /// Stands for every tenant the settings do not list: no partner has the nil GUID.
    package static let unlistedTenant = TenantID(high: 0, low: 0)

    /// The tenant restrictions' refusal of a sign-in whose tenant is unknown, when they refuse some tenant's accounts
    /// (a partner's, or `unlistedTenant`'s for every tenant they do not list): it could be of that tenant, so it is
    /// refused (fail closed). The proxy and `check` ask the same.
    package func tenantRestrictionsRefusingAnUnknownTenant(application: String?) -> CrossTenantAccessResult? {
        for partner in [Self.unlistedTenant] + partners.compactMap(\.partnerTenant) {
            let result = evaluate(
                .init(
                    kind: .tenantRestrictions,
                    direction: .outbound,
                    partner: partner,
                    user: nil,
                    application: application
                )
            )
            if !result.isAllowed { return result }
        }
        return nil
    }
}

extension PolicySet {
    /// The tenant a sign-in of unknown tenant could be of, as a refusal names it (`unlistedTenant`: every tenant the
    /// settings do not list).
    package func labelOfAPossibleTenant(_ tenant: TenantID) -> String {
        tenant == CrossTenantAccessPolicy.unlistedTenant ? "a tenant that is not among its partners" : label(tenant)
    }
}
