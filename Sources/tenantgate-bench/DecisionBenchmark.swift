import Foundation
import TenantPolicy

/// Decisions per second on one thread, with a 10-rule and a 100,000-rule allowlist: the cost must not grow with
/// the allowlist (SPEC 5).
enum DecisionBenchmark {
    static func run(decisions: Int) -> [BenchmarkResult] {
        let small = measure(ruleCount: 10, decisions: decisions)
        let large = measure(ruleCount: 100_000, decisions: decisions)
        return [small, large]
    }

    private static func tenant(_ index: Int) -> TenantID {
        TenantID(high: 0x1000_0000_0000_0000 | UInt64(index), low: UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    }

    private static func measure(ruleCount: Int, decisions: Int) -> BenchmarkResult {
        let creator = tenant(0)
        let signInGoverned = tenant(1)
        var rules = (2..<(ruleCount + 2)).map {
            IsolationRule(subject: .tenant(tenant($0)), directions: $0 % 2 == 0 ? .outbound : .both)
        }
        rules.append(IsolationRule(subject: .tenant(signInGoverned), directions: .both))
        let set = PolicySet(tenants: [
            GovernedTenant(id: creator, isolation: IsolationPolicy(tenantID: creator, isEnabled: true, rules: rules)),
            GovernedTenant(
                id: signInGoverned,
                isolation: IsolationPolicy(tenantID: signInGoverned, isEnabled: true, rules: [])
            ),
        ])
        // A mix of allowed-by-rule, blocked (no rule) and same-tenant pairs, so nothing is constant.
        var generator = SystemRandomNumberGenerator()
        let pairs: [(TenantID, TenantID)] = (0..<1024).map { index in
            switch index % 4 {
            case 0: (creator, tenant(2 + Int.random(in: 0..<ruleCount, using: &generator)))
            case 1: (creator, tenant(ruleCount + 10 + index))
            case 2: (creator, creator)
            default: (tenant(2 + Int.random(in: 0..<ruleCount, using: &generator)), signInGoverned)
            }
        }
        var allowed = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<decisions {
            let (c, s) = pairs[index & 1023]
            if set.decide(creator: c, signIn: s).isAllowed { allowed &+= 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return BenchmarkResult(
            name: "decisions, \(ruleCount) rules",
            operations: decisions,
            seconds: seconds,
            checksum: allowed
        )
    }
}
