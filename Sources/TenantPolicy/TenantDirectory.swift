/// Resolves verified domains to tenant IDs, from the governed tenants' own domains and `directory.yaml` (SPEC 4).
package struct TenantDirectory: Hashable, Sendable {
    private var tenantByDomain: [String: TenantID]
    private var displayNameByTenant: [TenantID: String]
    /// The tenant each resource host belongs to (`resourceHosts`), for requests that carry no readable token.
    package private(set) var resourceHostTenants = HostPatternMap<TenantID>()
    /// The Entra tenant of each Azure DevOps organisation (`azureDevOpsOrganizations`), names lower-case.
    package private(set) var azureDevOpsOrganizations: [String: TenantID] = [:]

    package init() {
        tenantByDomain = [:]
        displayNameByTenant = [:]
    }

    /// Records that `resourceHost` belongs to `tenant`. Returns the tenant already holding it, if another one does
    /// (which keeps it).
    @discardableResult
    package mutating func register(resourceHost: HostPattern, for tenant: TenantID) -> TenantID? {
        if let existing = resourceHostTenants.set(tenant, for: resourceHost), existing != tenant {
            resourceHostTenants.set(existing, for: resourceHost)
            return existing
        }
        return nil
    }

    /// Records that the organisation `name` belongs to `tenant`. Returns the tenant already holding it, if another
    /// one does (which keeps it).
    @discardableResult
    package mutating func register(azureDevOpsOrganization name: String, for tenant: TenantID) -> TenantID? {
        let key = name.lowercased()
        if let existing = azureDevOpsOrganizations[key], existing != tenant { return existing }
        azureDevOpsOrganizations[key] = tenant
        return nil
    }

    package func tenant(forResourceHost host: String) -> TenantID? {
        resourceHostTenants.value(for: host)
    }

    package func tenant(forAzureDevOpsOrganization name: String) -> TenantID? {
        azureDevOpsOrganizations[name.lowercased()]
    }

    /// Records that `domain` belongs to `tenant`. Returns the tenant already holding the domain, if another one does.
    @discardableResult
    package mutating func register(domain: String, for tenant: TenantID) -> TenantID? {
        let key = domain.lowercased()
        if let existing = tenantByDomain[key], existing != tenant { return existing }
        tenantByDomain[key] = tenant
        return nil
    }

    package mutating func register(displayName: String, for tenant: TenantID) {
        displayNameByTenant[tenant] = displayName
    }

    /// The tenant a domain belongs to.
    package func tenant(forDomain domain: String) -> TenantID? {
        tenantByDomain[domain.lowercased()]
    }

    /// Resolves a written tenant: a GUID is itself, a domain what the directory says; `*` and unknown domains are nil.
    package func resolve(_ reference: TenantReference) -> TenantID? {
        switch reference {
        case .id(let id): id
        case .domain(let name): tenantByDomain[name]
        case .any: nil
        }
    }

    /// Resolves text such as a token path's tenant segment: a GUID or a known domain.
    package func resolve(_ text: String) -> TenantID? {
        TenantReference(parsing: text).flatMap(resolve)
    }

    package func displayName(of tenant: TenantID) -> String? { displayNameByTenant[tenant] }

    /// The verified domains known for a tenant, sorted (for showing a tenant; never on the data path).
    package func domains(of tenant: TenantID) -> [String] {
        tenantByDomain.compactMap { $0.value == tenant ? $0.key : nil }.sorted()
    }
}
