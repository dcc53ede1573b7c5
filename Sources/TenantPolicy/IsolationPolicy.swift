/// A governed tenant's tenant isolation policy: the On/Off switch and its allowlist (SPEC 2.1).
///
/// Rules are indexed by tenant when the policy is built, so that a lookup costs the same with 10 rules or
/// 100,000. Rules may be edited whether isolation is On or Off; they only take effect while it is On.
package struct IsolationPolicy: Hashable, Sendable {
    package let tenantID: TenantID
    package var isEnabled: Bool
    /// Rules in the order the administrator wrote them.
    package private(set) var rules: [IsolationRule]
    private var ruleIndexByTenant: [TenantID: Int]
    private var wildcardIndex: Int?

    /// Builds a policy. Two rules for the same subject are a validation error upstream; here the last wins.
    package init(tenantID: TenantID, isEnabled: Bool, rules: [IsolationRule]) {
        self.tenantID = tenantID
        self.isEnabled = isEnabled
        self.rules = []
        self.ruleIndexByTenant = [:]
        self.ruleIndexByTenant.reserveCapacity(rules.count)
        for rule in rules { upsert(rule) }
    }

    /// The rule that allows a connection with `other` in `direction`, preferring a rule naming the tenant over `*`.
    /// Consulted whatever the switch says; `decide` only asks while isolation is On.
    package func rule(allowing other: TenantID, _ direction: Direction) -> IsolationRule? {
        if let index = ruleIndexByTenant[other], rules[index].directions.allows(direction) { return rules[index] }
        if let index = wildcardIndex, rules[index].directions.allows(direction) { return rules[index] }
        return nil
    }

    /// The rule for a subject, if any.
    package func rule(for subject: IsolationRule.Subject) -> IsolationRule? {
        index(of: subject).map { rules[$0] }
    }

    /// Adds a rule, or replaces the rule with the same subject.
    package mutating func upsert(_ rule: IsolationRule) {
        if let existing = index(of: rule.subject) {
            rules[existing] = rule
            return
        }
        rules.append(rule)
        switch rule.subject {
        case .any: wildcardIndex = rules.count - 1
        case .tenant(let id): ruleIndexByTenant[id] = rules.count - 1
        }
    }

    /// Removes the rule for a subject; returns it, or nil when there was none.
    @discardableResult
    package mutating func removeRule(for subject: IsolationRule.Subject) -> IsolationRule? {
        guard let position = index(of: subject) else { return nil }
        let removed = rules.remove(at: position)
        self = IsolationPolicy(tenantID: tenantID, isEnabled: isEnabled, rules: rules)
        return removed
    }

    private func index(of subject: IsolationRule.Subject) -> Int? {
        switch subject {
        case .any: wildcardIndex
        case .tenant(let id): ruleIndexByTenant[id]
        }
    }
}
