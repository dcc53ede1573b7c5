import CrossTenantAccess
import PolicyFiles
import TenantPolicy

/// Everything the policies directory says about one governed tenant, as the admin API edits it: the isolation
/// policy and the cross-tenant access settings, each nil when the tenant has none.
struct TenantPolicyState: Sendable {
    let tenant: TenantID
    var displayName: String?
    var domains: [String]
    var isolation: IsolationPolicy?
    var crossTenantAccess: CrossTenantAccessPolicy?

    init(tenant: TenantID, bundle: PolicyBundle) {
        self.tenant = tenant
        let governed = bundle.isolation.tenant(tenant)
        displayName = governed?.displayName
        domains = governed?.domains ?? []
        isolation = governed?.isolation
        crossTenantAccess = bundle.crossTenantAccess[tenant]
    }
}
