/// One immutable snapshot of every governed tenant's isolation policy and the domain directory.
///
/// The proxy, the admin API and the command line all decide through `decide(creator:signIn:)`. A reload builds
/// a new set, validates it in full, then swaps it in; a set is never edited in place while in use.
package struct PolicySet: Hashable, Sendable {
    package private(set) var tenants: [TenantID: GovernedTenant]
    package private(set) var directory: TenantDirectory

    package init(tenants: [GovernedTenant] = [], directory: TenantDirectory = TenantDirectory()) {
        self.tenants = [:]
        self.directory = directory
        for tenant in tenants {
            self.tenants[tenant.id] = tenant
            for domain in tenant.domains { self.directory.register(domain: domain, for: tenant.id) }
            if let name = tenant.displayName { self.directory.register(displayName: name, for: tenant.id) }
        }
    }

    package func tenant(_ id: TenantID) -> GovernedTenant? { tenants[id] }

    /// Returns a copy with one governed tenant added or replaced.
    package func replacing(_ tenant: GovernedTenant) -> PolicySet {
        var copy = self
        copy.tenants[tenant.id] = tenant
        for domain in tenant.domains { copy.directory.register(domain: domain, for: tenant.id) }
        if let name = tenant.displayName { copy.directory.register(displayName: name, for: tenant.id) }
        return copy
    }

    /// The tenant isolation decision for a connection created in `creator` signing in to `signIn` (SPEC 2.1).
    /// `signIn` is nil when the sign-in tenant could not be determined.
    package func decide(creator: TenantID, signIn: TenantID?) -> IsolationDecision {
        guard let signIn else {
            // 2.1 point 5: unknown sign-in tenant under an enabled creator policy fails closed.
            let outbound: IsolationDecision.Check
            if let policy = tenants[creator]?.isolation {
                outbound =
                    policy.isEnabled
                    ? .blocked(policyTenant: creator, reason: .signInTenantUnknown)
                    : .notEvaluated(.isolationOff)
            } else {
                outbound = .notEvaluated(.notGoverned)
            }
            return IsolationDecision(
                creator: creator,
                signIn: nil,
                outbound: outbound,
                inbound: .notEvaluated(.signInTenantUnknown)
            )
        }
        if creator == signIn {
            // 2.1 point 1, including a guest of host tenant C connecting to data in C itself.
            return IsolationDecision(
                creator: creator,
                signIn: signIn,
                outbound: .notEvaluated(.sameTenant),
                inbound: .notEvaluated(.sameTenant)
            )
        }
        return IsolationDecision(
            creator: creator,
            signIn: signIn,
            outbound: check(policyOf: creator, other: signIn, .outbound),
            inbound: check(policyOf: signIn, other: creator, .inbound)
        )
    }

    /// A governed tenant other than `creator` whose enabled isolation would refuse a connection created in
    /// `creator` (no inbound rule names it or `*`), if any; the first in ID order, so the answer is stable.
    /// One pass, no sorting: IDs compare in the order of their lower-case text, and this runs on every exchange
    /// whose token cannot be read, over every governed tenant.
    package func tenantRefusingInbound(from creator: TenantID) -> TenantID? {
        var first: TenantID?
        for tenant in tenants.keys where tenant != creator && first.map({ tenant < $0 }) ?? true {
            if case .blocked = check(policyOf: tenant, other: creator, .inbound) { first = tenant }
        }
        return first
    }

    private func check(policyOf judge: TenantID, other: TenantID, _ direction: Direction) -> IsolationDecision.Check {
        guard let policy = tenants[judge]?.isolation else { return .notEvaluated(.notGoverned) }
        guard policy.isEnabled else { return .notEvaluated(.isolationOff) }
        if let rule = policy.rule(allowing: other, direction) {
            return .allowedByRule(policyTenant: judge, rule: rule)
        }
        return .blocked(policyTenant: judge, reason: .noMatchingRule)
    }

    /// The display name of a governed or directory-named tenant, else the bare ID.
    package func name(_ id: TenantID) -> String {
        tenants[id]?.displayName ?? directory.displayName(of: id) ?? id.description
    }

    /// `Contoso (bb1b…)` for named tenants, else the bare ID.
    package func label(_ id: TenantID) -> String {
        let short = name(id)
        return short == id.description ? short : "\(short) (\(id))"
    }
}
