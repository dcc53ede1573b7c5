/// The outcome of one tenant isolation check, carrying everything needed to explain it (SPEC 2.1 point 4).
///
/// Built without strings on the hot path; `explanation` composes the sentence only when someone asks.
package struct IsolationDecision: Hashable, Sendable {
    /// What one direction's check concluded.
    package enum Check: Hashable, Sendable {
        /// The direction was not judged: no governed policy, or isolation Off for the tenant that would judge it.
        case notEvaluated(NotEvaluatedReason)
        /// Isolation is On and this rule of the policy tenant allows the connection.
        case allowedByRule(policyTenant: TenantID, rule: IsolationRule)
        /// Isolation is On and no rule of the policy tenant allows it.
        case blocked(policyTenant: TenantID, reason: BlockReason)

        package var isBlocked: Bool {
            if case .blocked = self { return true }
            return false
        }
    }

    package enum NotEvaluatedReason: Hashable, Sendable {
        case sameTenant
        case notGoverned
        case isolationOff
        case signInTenantUnknown
    }

    package enum BlockReason: Hashable, Sendable {
        /// No rule names the other tenant or `*` with this direction or both.
        case noMatchingRule
        /// The sign-in tenant could not be determined and the creator's isolation is On: fail closed (2.1 point 5).
        case signInTenantUnknown
    }

    package let creator: TenantID
    package let signIn: TenantID?
    /// Judged by the creator tenant's policy.
    package let outbound: Check
    /// Judged by the sign-in tenant's policy.
    package let inbound: Check

    package init(creator: TenantID, signIn: TenantID?, outbound: Check, inbound: Check) {
        self.creator = creator
        self.signIn = signIn
        self.outbound = outbound
        self.inbound = inbound
    }

    package var isAllowed: Bool { !outbound.isBlocked && !inbound.isBlocked }

    /// Every blocked direction, outbound first.
    package var blockedDirections: [Direction] {
        var result: [Direction] = []
        if outbound.isBlocked { result.append(.outbound) }
        if inbound.isBlocked { result.append(.inbound) }
        return result
    }

    /// True when the connection was not evaluated because creator and sign-in tenant are the same (2.1 point 1).
    package var isSameTenant: Bool { outbound == .notEvaluated(.sameTenant) }

    /// The rules that allowed the evaluated directions, outbound first.
    package var allowingRules: [(direction: Direction, policyTenant: TenantID, rule: IsolationRule)] {
        var result: [(Direction, TenantID, IsolationRule)] = []
        if case .allowedByRule(let tenant, let rule) = outbound { result.append((.outbound, tenant, rule)) }
        if case .allowedByRule(let tenant, let rule) = inbound { result.append((.inbound, tenant, rule)) }
        return result
    }
}
