/// A governed tenant's tenant isolation policy: the On/Off switch and its allowlist (SPEC 2.1).
///
/// Rules naming a tenant are kept sorted by tenant ID in two flat arrays (the IDs, 16 bytes each, and their
/// directions, one byte), so a lookup is a binary search whose cost barely moves between 10 rules and 100,000, and a
/// million rules take 17 MB rather than the ~90 MB of rule values indexed by a dictionary. The administrator's order
/// is kept apart (`writtenOrder`), and domains only for the rules written with one. Rules may be edited whether
/// isolation is On or Off; they only take effect while it is On.
package struct IsolationPolicy: Hashable, Sendable {
    package let tenantID: TenantID
    package var isEnabled: Bool
    /// The tenants rules name, sorted, and each one's directions at the same index.
    private var tenants: [TenantID]
    private var directions: [DirectionSet]
    /// The `*` rule, if any.
    private var wildcard: IsolationRule?
    /// The rules in the order the administrator wrote them: indexes into `tenants`, and -1 for the `*` rule.
    private var writtenOrder: [Int32]
    /// The domain a rule was written with, for the rules written with one (explanations and rendering).
    private var domains: [TenantID: String]

    /// Builds a policy. Two rules for the same subject are a validation error upstream; here the later one's value
    /// takes the earlier one's place.
    package init(tenantID: TenantID, isEnabled: Bool, rules: [IsolationRule]) {
        self.tenantID = tenantID
        self.isEnabled = isEnabled
        domains = [:]
        wildcard = nil
        var wildcardPosition: Int?
        // Rule positions sorted by tenant, ties by position: each run is one tenant, its first position is where
        // the rule stands and its last the value it has.
        var named: [(tenant: TenantID, position: Int)] = []
        named.reserveCapacity(rules.count)
        for (position, rule) in rules.enumerated() {
            switch rule.subject {
            case .any:
                wildcard = rule
                if wildcardPosition == nil { wildcardPosition = position }
            case .tenant(let id): named.append((id, position))
            }
        }
        named.sort { $0.tenant == $1.tenant ? $0.position < $1.position : $0.tenant < $1.tenant }
        tenants = []
        directions = []
        tenants.reserveCapacity(named.count)
        directions.reserveCapacity(named.count)
        var placed: [(position: Int, index: Int32)] = []
        placed.reserveCapacity(named.count + 1)
        var start = 0
        while start < named.count {
            var end = start
            while end + 1 < named.count, named[end + 1].tenant == named[start].tenant { end += 1 }
            let rule = rules[named[end].position]
            placed.append((named[start].position, Int32(tenants.count)))
            tenants.append(named[start].tenant)
            directions.append(rule.directions)
            if let domain = rule.domain { domains[named[start].tenant] = domain }
            start = end + 1
        }
        if let wildcardPosition { placed.append((wildcardPosition, -1)) }
        placed.sort { $0.position < $1.position }
        writtenOrder = placed.map(\.index)
    }

    /// Rules in the order the administrator wrote them (made on each call: for showing and writing a policy, never
    /// for deciding).
    package var rules: [IsolationRule] {
        writtenOrder.compactMap { index in index < 0 ? wildcard : rule(at: Int(index)) }
    }

    /// How many rules the policy has.
    package var ruleCount: Int { writtenOrder.count }

    /// The rule that allows a connection with `other` in `direction`, preferring a rule naming the tenant over `*`.
    /// Consulted whatever the switch says; `decide` only asks while isolation is On.
    package func rule(allowing other: TenantID, _ direction: Direction) -> IsolationRule? {
        if let index = index(of: other), directions[index].allows(direction) { return rule(at: index) }
        if let wildcard, wildcard.directions.allows(direction) { return wildcard }
        return nil
    }

    /// The rule for a subject, if any.
    package func rule(for subject: IsolationRule.Subject) -> IsolationRule? {
        switch subject {
        case .any: wildcard
        case .tenant(let id): index(of: id).map(rule(at:))
        }
    }

    /// Whether this policy's rules are the very storage of `other`'s (a set made by a change shares every unchanged
    /// tenant's rules with the set before it).
    package func sharesRules(with other: IsolationPolicy) -> Bool {
        tenants.withUnsafeBufferPointer { mine in
            other.tenants.withUnsafeBufferPointer { theirs in mine.baseAddress == theirs.baseAddress }
        }
    }

    /// Adds a rule, or replaces the rule with the same subject in its place.
    package mutating func upsert(_ rule: IsolationRule) {
        switch rule.subject {
        case .any:
            if wildcard == nil { writtenOrder.append(-1) }
            wildcard = rule
        case .tenant(let id):
            domains[id] = rule.domain
            let slot = tenants.insertionPoint(of: id)
            if slot < tenants.count, tenants[slot] == id {
                directions[slot] = rule.directions
                return
            }
            tenants.insert(id, at: slot)
            directions.insert(rule.directions, at: slot)
            for position in writtenOrder.indices where writtenOrder[position] >= Int32(slot) {
                writtenOrder[position] += 1
            }
            writtenOrder.append(Int32(slot))
        }
    }

    /// Removes the rule for a subject; returns it, or nil when there was none.
    @discardableResult
    package mutating func removeRule(for subject: IsolationRule.Subject) -> IsolationRule? {
        switch subject {
        case .any:
            guard let removed = wildcard else { return nil }
            wildcard = nil
            writtenOrder.removeAll { $0 < 0 }
            return removed
        case .tenant(let id):
            guard let slot = index(of: id) else { return nil }
            let removed = rule(at: slot)
            tenants.remove(at: slot)
            directions.remove(at: slot)
            domains[id] = nil
            writtenOrder.removeAll { $0 == Int32(slot) }
            for position in writtenOrder.indices where writtenOrder[position] > Int32(slot) {
                writtenOrder[position] -= 1
            }
            return removed
        }
    }

    private func rule(at index: Int) -> IsolationRule {
        IsolationRule(
            subject: .tenant(tenants[index]),
            directions: directions[index],
            domain: domains.isEmpty ? nil : domains[tenants[index]]
        )
    }

    private func index(of id: TenantID) -> Int? {
        let slot = tenants.insertionPoint(of: id)
        return slot < tenants.count && tenants[slot] == id ? slot : nil
    }

}
