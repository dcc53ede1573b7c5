/// A group of admin API settings guarded by the same directory roles.
package enum AdminArea: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Power Platform tenant isolation: Global or Power Platform Administrator, as in Power Platform (ENTRA-FACTS 5).
    case tenantIsolation
    /// Entra cross-tenant access settings: Global or Security Administrator, as Graph requires for
    /// `crossTenantAccessPolicy`.
    case crossTenantAccess

    /// Holding any one of these roles grants the area.
    package var grantingRoles: Set<AdminRole> {
        switch self {
        case .tenantIsolation: [.globalAdministrator, .powerPlatformAdministrator]
        case .crossTenantAccess: [.globalAdministrator, .securityAdministrator]
        }
    }

    package var description: String {
        switch self {
        case .tenantIsolation: "tenant isolation settings"
        case .crossTenantAccess: "cross-tenant access settings"
        }
    }
}
