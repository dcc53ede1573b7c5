import TenantPolicy
import TestSupport
import Testing

/// Seed 000's three tables (two-way, outbound allowlist, bidirectional allowlist), one case per row.
struct SeedTableTests {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam

    enum Scenario: String, CaseIterable, Sendable {
        case twoWay, outboundAllowlist, bidirectionalAllowlist

        var policies: PolicySet {
            let rule: DirectionSet? =
                switch self {
                case .twoWay: nil
                case .outboundAllowlist: .outbound
                case .bidirectionalAllowlist: .both
                }
            let rules = rule.map { [IsolationRule(subject: .tenant(fabrikam), directions: $0)] } ?? []
            return PolicySet(tenants: [
                GovernedTenant(
                    id: contoso,
                    displayName: "Contoso",
                    isolation: IsolationPolicy(tenantID: contoso, isEnabled: true, rules: rules)
                )
            ])
        }
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let scenario: Scenario
        let creator: TenantID
        let signIn: TenantID
        /// Empty: allowed. Otherwise the blocked directions, as the seed's "No (outbound)" / "No (inbound)".
        let blocked: [Direction]
        var testDescription: String {
            "\(scenario.rawValue): \(creator == contoso ? "Contoso" : "Fabrikam") -> \(signIn == contoso ? "Contoso" : "Fabrikam")"
        }
    }

    static let rows: [Row] = [
        Row(scenario: .twoWay, creator: contoso, signIn: contoso, blocked: []),
        Row(scenario: .twoWay, creator: contoso, signIn: fabrikam, blocked: [.outbound]),
        Row(scenario: .twoWay, creator: fabrikam, signIn: contoso, blocked: [.inbound]),
        Row(scenario: .twoWay, creator: fabrikam, signIn: fabrikam, blocked: []),
        Row(scenario: .outboundAllowlist, creator: contoso, signIn: contoso, blocked: []),
        Row(scenario: .outboundAllowlist, creator: contoso, signIn: fabrikam, blocked: []),
        Row(scenario: .outboundAllowlist, creator: fabrikam, signIn: contoso, blocked: [.inbound]),
        Row(scenario: .outboundAllowlist, creator: fabrikam, signIn: fabrikam, blocked: []),
        Row(scenario: .bidirectionalAllowlist, creator: contoso, signIn: contoso, blocked: []),
        Row(scenario: .bidirectionalAllowlist, creator: contoso, signIn: fabrikam, blocked: []),
        Row(scenario: .bidirectionalAllowlist, creator: fabrikam, signIn: contoso, blocked: []),
        Row(scenario: .bidirectionalAllowlist, creator: fabrikam, signIn: fabrikam, blocked: []),
    ]

    @Test(arguments: rows)
    func seedRow(_ row: Row) {
        let decision = row.scenario.policies.decide(creator: row.creator, signIn: row.signIn)
        #expect(decision.isAllowed == row.blocked.isEmpty)
        #expect(decision.blockedDirections == row.blocked)
        if row.creator == row.signIn { #expect(decision.isSameTenant) }
    }

    @Test func allowedRowNamesTheRuleThatAllowedIt() {
        let decision = Scenario.outboundAllowlist.policies.decide(creator: Self.contoso, signIn: Self.fabrikam)
        #expect(
            decision.outbound
                == .allowedByRule(
                    policyTenant: Self.contoso,
                    rule: IsolationRule(subject: .tenant(Self.fabrikam), directions: .outbound)
                )
        )
        #expect(decision.inbound == .notEvaluated(.notGoverned))
    }

    @Test func blockedRowExplainsWhichPolicyAndWhatWouldAllowIt() {
        let set = Scenario.twoWay.policies
        let text = set.decide(creator: Self.fabrikam, signIn: Self.contoso).explanation(naming: set.name)
        #expect(text.contains("Blocked (inbound)"))
        #expect(text.contains("Contoso's tenant isolation (On)"))
        #expect(text.contains("inbound"))
        #expect(text.contains("can add the rule"))
    }
}

/// Wildcards, both directions at once, rules edited while Off, fail closed, GUID spellings.
struct IsolationRuleTests {
    static let a = TenantID("11111111-1111-1111-1111-111111111111")!
    static let b = TenantID("22222222-2222-2222-2222-222222222222")!
    static let c = TenantID("33333333-3333-3333-3333-333333333333")!

    static func governed(_ id: TenantID, enabled: Bool = true, _ rules: [IsolationRule] = []) -> GovernedTenant {
        GovernedTenant(id: id, isolation: IsolationPolicy(tenantID: id, isEnabled: enabled, rules: rules))
    }

    @Test(arguments: [
        (DirectionSet.outbound, true, false),
        (DirectionSet.inbound, false, true),
        (DirectionSet.both, true, true),
    ])
    func wildcardAllowsItsDirectionOnly(directions: DirectionSet, outboundAllowed: Bool, inboundAllowed: Bool) {
        let set = PolicySet(tenants: [Self.governed(Self.a, [IsolationRule(subject: .any, directions: directions)])])
        #expect(set.decide(creator: Self.a, signIn: Self.b).isAllowed == outboundAllowed)
        #expect(set.decide(creator: Self.c, signIn: Self.a).isAllowed == inboundAllowed)
    }

    @Test func bothDirectionsBlockAtOnce() {
        let set = PolicySet(tenants: [Self.governed(Self.a), Self.governed(Self.b)])
        let decision = set.decide(creator: Self.a, signIn: Self.b)
        #expect(decision.blockedDirections == [.outbound, .inbound])
    }

    @Test func specificRuleIsPreferredOverWildcard() {
        let specific = IsolationRule(subject: .tenant(Self.b), directions: .both)
        let set = PolicySet(tenants: [
            Self.governed(Self.a, [IsolationRule(subject: .any, directions: .both), specific])
        ])
        #expect(
            set.decide(creator: Self.a, signIn: Self.b).outbound == .allowedByRule(policyTenant: Self.a, rule: specific)
        )
    }

    @Test func rulesEditedWhileOffTakeEffectWhenOn() {
        var policy = IsolationPolicy(tenantID: Self.a, isEnabled: false, rules: [])
        policy.upsert(IsolationRule(subject: .tenant(Self.b), directions: .inbound))
        #expect(
            PolicySet(tenants: [GovernedTenant(id: Self.a, isolation: policy)]).decide(creator: Self.a, signIn: Self.b)
                .isAllowed
        )
        policy.upsert(IsolationRule(subject: .tenant(Self.b), directions: .outbound))  // edit: direction only
        #expect(policy.rules.count == 1)
        policy.isEnabled = true
        #expect(
            PolicySet(tenants: [GovernedTenant(id: Self.a, isolation: policy)]).decide(creator: Self.a, signIn: Self.b)
                .isAllowed
        )
        policy.removeRule(for: .tenant(Self.b))
        #expect(
            !PolicySet(tenants: [GovernedTenant(id: Self.a, isolation: policy)]).decide(creator: Self.a, signIn: Self.b)
                .isAllowed
        )
    }

    @Test func unknownSignInTenantFailsClosedOnlyWhenCreatorIsolationIsOn() {
        #expect(!PolicySet(tenants: [Self.governed(Self.a)]).decide(creator: Self.a, signIn: nil).isAllowed)
        #expect(
            PolicySet(tenants: [Self.governed(Self.a, enabled: false)]).decide(creator: Self.a, signIn: nil).isAllowed
        )
        #expect(PolicySet().decide(creator: Self.a, signIn: nil).isAllowed)
    }

    @Test func guidsCompareCaseInsensitivelyAndRoundTrip() {
        let lower = TenantID("0da59725-89fe-4a2f-bf22-fd4536c9baac")
        #expect(lower != nil)
        #expect(TenantID("0DA59725-89FE-4A2F-BF22-FD4536C9BAAC") == lower)
        #expect(TenantID("{0da59725-89fe-4a2f-bf22-fd4536c9baac}") == lower)
        #expect(lower?.description == "0da59725-89fe-4a2f-bf22-fd4536c9baac")
        for junk in [
            "", "*", "0da59725", "0da59725-89fe-4a2f-bf22-fd4536c9baaz", "0da5972589fe4a2fbf22fd4536c9baac----",
        ] {
            #expect(TenantID(junk) == nil)
        }
    }

    @Test func randomTextNeverTrapsTheParsers() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("0123456789abcdefABCDEF-{}.*xyz é")
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 40)
            let text = String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            _ = TenantID(text)
            _ = TenantReference(parsing: text)
        }
    }
}

/// A small seeded generator so fuzz runs are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
