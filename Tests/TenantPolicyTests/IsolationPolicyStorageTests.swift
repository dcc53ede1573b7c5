import TenantPolicy
import Testing

/// The compact rule storage (sorted IDs, written order apart) behaves exactly like the plain list of rules the
/// administrator wrote: checked against that list over seeded random edits.
struct IsolationPolicyStorageTests {
    static let owner = TenantID(high: 1, low: 1)

    /// The plain model: rules in written order, one per subject, an edit replacing a rule in its place.
    struct Model {
        var rules: [IsolationRule] = []

        mutating func upsert(_ rule: IsolationRule) {
            if let index = rules.firstIndex(where: { $0.subject == rule.subject }) {
                rules[index] = rule
            } else {
                rules.append(rule)
            }
        }

        mutating func remove(_ subject: IsolationRule.Subject) -> IsolationRule? {
            guard let index = rules.firstIndex(where: { $0.subject == subject }) else { return nil }
            return rules.remove(at: index)
        }

        func allowing(_ other: TenantID, _ direction: Direction) -> IsolationRule? {
            if let rule = rules.first(where: { $0.subject == .tenant(other) }), rule.directions.allows(direction) {
                return rule
            }
            return rules.first { $0.subject == .any && $0.directions.allows(direction) }
        }
    }

    @Test func editsKeepTheWrittenOrderAndEveryLookupAgreesWithThePlainList() {
        var state: UInt64 = 0x15_0142
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33) % bound
        }
        let others = (0..<40).map { TenantID(high: UInt64($0 % 7) << 60 | UInt64($0), low: UInt64($0) &* 31) }
        let directions: [DirectionSet] = [.inbound, .outbound, .both]
        func randomRule() -> IsolationRule {
            let subject: IsolationRule.Subject = next(10) == 0 ? .any : .tenant(others[next(others.count)])
            return IsolationRule(
                subject: subject,
                directions: directions[next(3)],
                domain: next(4) == 0 ? "d\(next(100)).example" : nil
            )
        }
        for _ in 0..<200 {
            // Built at once, duplicates included: the later value takes the earlier one's place.
            let written = (0..<next(30)).map { _ in randomRule() }
            var model = Model()
            for rule in written { model.upsert(rule) }
            var policy = IsolationPolicy(tenantID: Self.owner, isEnabled: true, rules: written)
            #expect(policy.rules == model.rules)
            for _ in 0..<30 {
                if next(3) == 0 {
                    let subject = randomRule().subject
                    #expect(policy.removeRule(for: subject) == model.remove(subject))
                } else {
                    let rule = randomRule()
                    policy.upsert(rule)
                    model.upsert(rule)
                }
                #expect(policy.rules == model.rules)
                #expect(policy.ruleCount == model.rules.count)
                let other = others[next(others.count)]
                for direction in [Direction.inbound, .outbound] {
                    #expect(policy.rule(allowing: other, direction) == model.allowing(other, direction))
                }
            }
            // Built again from its own rules, it is the same policy.
            #expect(IsolationPolicy(tenantID: Self.owner, isEnabled: true, rules: policy.rules) == policy)
        }
    }

    /// With an unreadable sign-in tenant, the tenant named as refusing is the first refusing one in the order of
    /// the IDs' text, whatever order the set holds them in.
    @Test func theRefusingTenantIsTheFirstInTextOrder() throws {
        let creator = try #require(TenantID("00000000-0000-4000-8000-000000000001"))
        let ids = [
            "f0000000-0000-4000-8000-000000000000", "0a000000-0000-4000-8000-00000000000b",
            "0a000000-0000-4000-8000-00000000000a", "9fffffff-ffff-4fff-bfff-ffffffffffff",
        ].compactMap { TenantID($0) }
        let admitting = try #require(TenantID("00000000-0000-4000-8000-000000000000"))
        let tenants =
            ids.map { GovernedTenant(id: $0, isolation: IsolationPolicy(tenantID: $0, isEnabled: true, rules: [])) }
            + [
                GovernedTenant(
                    id: admitting,
                    isolation: IsolationPolicy(
                        tenantID: admitting,
                        isEnabled: true,
                        rules: [IsolationRule(subject: .tenant(creator), directions: .both)]
                    )
                )
            ]
        let set = PolicySet(tenants: tenants)
        #expect(set.tenantRefusingInbound(from: creator) == ids.min { $0.description < $1.description })
        #expect(set.tenantRefusingInbound(from: creator)?.description == "0a000000-0000-4000-8000-00000000000a")
    }
}
