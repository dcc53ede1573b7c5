/// Enforce, or let blocked exchanges through and audit them as `would_block` (SPEC 4 `--mode`).
package enum EnforcementMode: String, Sendable, CaseIterable {
    case enforce
    case reportOnly = "report-only"
}

/// What to do with token responses of STSs that are not Entra (SPEC 2.3 `--non-entra-sts`).
package enum NonEntraSTSMode: String, Sendable, CaseIterable {
    case audit
    case block
}

/// What happens to a response of an intercepted STS host that carries tokens outside the token endpoint
/// (`form_post` pages, redirect fragments, JSON): judged like a token response, or refused outright.
package enum TokenFlowHandling: String, Sendable, CaseIterable {
    case judge
    case refuse
}
