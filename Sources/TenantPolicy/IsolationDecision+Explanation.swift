extension IsolationDecision {
    /// One readable paragraph: what was decided, by whose policy, which rule allowed it or what rule would.
    /// `name` labels tenants (for example with display names); by default the bare ID.
    package func explanation(naming name: (TenantID) -> String = { $0.description }) -> String {
        // The opening sentence names both tenants with their IDs; later sentences use the short names.
        func full(_ id: TenantID) -> String {
            let (label, plain) = (name(id), id.description)
            return label == plain ? plain : "\(label) (\(plain))"
        }
        let creatorName = full(creator)
        let signInName = signIn.map { full($0) } ?? "an undetermined tenant"
        if isSameTenant {
            return "Allowed: creator and sign-in tenant are the same (\(creatorName)); same-tenant connections are "
                + "not evaluated by tenant isolation."
        }
        var sentences: [String] = []
        sentences.append(
            isAllowed
                ? "Allowed: connection created in \(creatorName) signing in to \(signInName)."
                : "Blocked (\(blockedDirections.map(\.rawValue).joined(separator: ", "))): connection created in "
                    + "\(creatorName) signing in to \(signInName)."
        )
        sentences.append(describe(.outbound, outbound, name: name))
        sentences.append(describe(.inbound, inbound, name: name))
        return sentences.joined(separator: " ")
    }

    private func describe(_ direction: Direction, _ check: Check, name: (TenantID) -> String) -> String {
        let label = direction == .outbound ? "Outbound" : "Inbound"
        // The tenant whose policy judges this direction, and the other side that a rule would have to name.
        let judge: TenantID? = direction == .outbound ? creator : signIn
        let other: String = (direction == .outbound ? signIn : creator).map(name) ?? "the sign-in tenant"
        switch check {
        case .notEvaluated(.sameTenant):
            return "\(label): same tenant, not evaluated."
        case .notEvaluated(.notGoverned):
            return "\(label): \(judge.map(name) ?? "the sign-in tenant") has no isolation policy here, not evaluated."
        case .notEvaluated(.isolationOff):
            return "\(label): \(judge.map(name) ?? "the tenant")'s tenant isolation is Off, so its rules are not "
                + "enforced."
        case .notEvaluated(.signInTenantUnknown):
            return "\(label): the sign-in tenant is unknown, so no inbound policy applies."
        case .allowedByRule(let tenant, let rule):
            return "\(label): allowed by \(name(tenant))'s rule \(rule)."
        case .blocked(let tenant, .noMatchingRule):
            return "\(label): blocked by \(name(tenant))'s tenant isolation (On): no rule names \(other) or * with "
                + "direction \(direction.rawValue) or both. An administrator of \(name(tenant)) can add the rule "
                + "'\(other) \(direction.rawValue)' (or both) to allow it."
        case .blocked(let tenant, .signInTenantUnknown):
            return "\(label): blocked by \(name(tenant))'s tenant isolation (On): the sign-in tenant could not be "
                + "determined, and an undeterminable tenant is refused (fail closed)."
        }
    }
}
