import TenantPolicy

/// `GET .../tenantIsolationPolicy/rules`: whether isolation is On, and every rule.
struct IsolationRulesAnswer: Encodable {
    let isEnabled: Bool
    let value: [IsolationRuleAnswer]

    init(_ isolation: IsolationPolicy, directory: TenantDirectory) {
        isEnabled = isolation.isEnabled
        value = isolation.rules.map { IsolationRuleAnswer($0, directory: directory) }
    }
}

/// One rule as the admin center's rule operations show it, with the tenant's name and the domain it was added by.
struct IsolationRuleAnswer: Encodable {
    /// `inbound`, `outbound` or `both`.
    let direction: String
    /// A tenant ID, or `*`.
    let tenantId: String
    let tenantDisplayName: String?
    let domain: String?

    init(_ rule: IsolationRule, directory: TenantDirectory) {
        direction = rule.directions.description
        switch rule.subject {
        case .any:
            tenantId = "*"
            tenantDisplayName = nil
        case .tenant(let id):
            tenantId = id.description
            tenantDisplayName = directory.displayName(of: id)
        }
        domain = rule.domain
    }
}
