import TenantPolicy

/// A tenant's isolation policy in Power Platform's admin API shape (SPEC 4): the body of `GET` and `PUT
/// .../tenantIsolationPolicy`, the policy a `policy_change` line shows, and a `.json` policy file. Domain rules
/// appear as tenant IDs, as the admin center converts them.
struct PowerPlatformIsolationDocument: Encodable, Sendable {
    struct Properties: Encodable, Sendable {
        let tenantId: TenantID
        let isDisabled: Bool
        let allowedTenants: [AllowedTenant]
    }

    struct AllowedTenant: Encodable, Sendable {
        /// A tenant ID, or `*`.
        let tenantId: String
        /// Empty for `*` and for a tenant the directory does not name.
        let tenantDisplayName: String
        let direction: Direction
    }

    struct Direction: Encodable, Sendable {
        let inbound: Bool
        let outbound: Bool
    }

    let properties: Properties

    init(_ isolation: IsolationPolicy, directory: TenantDirectory) {
        let allowed = isolation.rules.map { rule in
            let direction = Direction(
                inbound: rule.directions.contains(.inbound),
                outbound: rule.directions.contains(.outbound)
            )
            switch rule.subject {
            case .any:
                return AllowedTenant(tenantId: "*", tenantDisplayName: "", direction: direction)
            case .tenant(let tenant):
                return AllowedTenant(
                    tenantId: tenant.description,
                    tenantDisplayName: directory.displayName(of: tenant) ?? "",
                    direction: direction
                )
            }
        }
        properties = Properties(
            tenantId: isolation.tenantID,
            isDisabled: !isolation.isEnabled,
            allowedTenants: allowed
        )
    }
}
