import NetworkPolicy
import ProxyServer
import TenantPolicy

/// The tenants `--default-creator-tenant`, `creator-by-client-address` and `--admin-tenant` name, as written: a GUID,
/// or a verified domain (SPEC 1), which resolves through the policies' directory once it is loaded.
package struct TenantNames: Sendable {
    package var defaultCreator: TenantReference?
    package var creatorRanges: [(range: AddressRange, tenants: [TenantReference])] = []
    package var adminTenants: [TenantReference] = []

    package init() {}
}

extension ServeSettings {
    /// These settings with the tenants named by `tenantNames` resolved in `directory`, at start: a later edit of the
    /// directory does not move a grant the operator made. Throws, naming the flag, for a domain the directory lacks.
    package func resolvingTenantNames(in directory: TenantDirectory) throws(Application.SetupError) -> ServeSettings {
        var settings = self
        func resolved(_ reference: TenantReference, _ flag: String) throws(Application.SetupError) -> TenantID {
            guard let tenant = directory.resolve(reference) else {
                throw Application.SetupError(
                    "\(flag): '\(reference)' is neither a tenant ID nor a domain of a governed tenant or directory.yaml"
                )
            }
            return tenant
        }
        if let creator = tenantNames.defaultCreator {
            settings.proxy.defaultCreatorTenant = try resolved(creator, "--default-creator-tenant")
        }
        if !tenantNames.creatorRanges.isEmpty {
            var entries: [(AddressRange, [TenantID])] = []
            var granted: Set<AddressRange> = []
            for (range, references) in tenantNames.creatorRanges {
                // The map would keep the first grant and drop the other without a word: a host would keep acting
                // for the tenant an operator meant to take away (review 36 F3).
                guard granted.insert(range).inserted else {
                    throw Application.SetupError(
                        "creator-by-client-address: the range \(range) is granted twice (the flag adds to the config "
                            + "file's map); give each range once, with all the tenants it may act for"
                    )
                }
                var tenants: [TenantID] = []
                for reference in references { tenants.append(try resolved(reference, "creator-by-client-address")) }
                entries.append((range, tenants))
            }
            settings.proxy.creatorTenantByClientAddress = AddressMap(entries)
        }
        if !tenantNames.adminTenants.isEmpty {
            var tenants: Set<TenantID> = []
            for reference in tenantNames.adminTenants { tenants.insert(try resolved(reference, "--admin-tenant")) }
            settings.adminTenants = tenants
        }
        return settings
    }
}
