import Testing

import TenantPolicy

/// Seed 000's three tables, one case per row.
struct SeedTableTests {
    static let contoso = TenantID("bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0")!
    static let fabrikam = TenantID("0da59725-89fe-4a2f-bf22-fd4536c9baac")!

    static func policySet(rule: DirectionSet?) -> PolicySet {
        let rules = rule.map { [IsolationRule(subject: .tenant(fabrikam), directions: $0)] } ?? []
        return PolicySet(tenants: [
            GovernedTenant(id: contoso, displayName: "Contoso", isolation: IsolationPolicy(tenantID: contoso, isEnabled: true, rules: rules))
        ])
    }

    @Test func sample() {
        #expect(Self.policySet(rule: nil).decide(creator: Self.contoso, signIn: Self.fabrikam).blockedDirections == [.outbound])
    }
}
