import TenantPolicy

/// What TenantGate concluded about one token exchange, before the mode turns it into an answer.
///
/// The same value feeds the audit line, the metrics and (when blocked) the 403 body, so all three agree.
package struct ExchangeVerdict: Sendable, Equatable {
    package enum Outcome: Sendable, Equatable {
        /// Evaluated and allowed (or nothing to judge, e.g. the STS answered an error).
        case allow
        /// Refused by a policy: 403 when enforcing, `would_block` in report-only mode.
        case block
        /// A non-Entra STS's token: passed through, recorded as the known gap (SPEC 2.3).
        case unenforced
    }

    package var outcome: Outcome
    package var directions: [Direction]
    package var creatorTenant: TenantID
    package var signInTenant: TenantID?
    /// A guest's home tenant, when the token shows one.
    package var homeTenant: TenantID?
    /// One readable paragraph: what, why, and what an administrator can change.
    package var reason: String
    /// The rule that allowed it, or nil.
    package var rule: String?
    /// Entra's tenant-boundary error codes where the meaning matches (SPEC 4).
    package var errorCodes: [Int]
    /// The setting that decided: `tenantIsolation`, or a cross-tenant access setting such as
    /// `b2bCollaborationInbound`; nil when nothing was judged.
    package var setting: String?

    package init(
        outcome: Outcome,
        directions: [Direction] = [],
        creatorTenant: TenantID,
        signInTenant: TenantID?,
        homeTenant: TenantID? = nil,
        reason: String,
        rule: String? = nil,
        errorCodes: [Int] = [],
        setting: String? = nil
    ) {
        self.outcome = outcome
        self.directions = directions
        self.creatorTenant = creatorTenant
        self.signInTenant = signInTenant
        self.homeTenant = homeTenant
        self.reason = reason
        self.rule = rule
        self.errorCodes = errorCodes
        self.setting = setting
    }

    /// Entra's codes: 500212 outbound (NotAllowedByOutboundPolicyTenant), 500213 inbound.
    package static func isolationErrorCodes(_ directions: [Direction]) -> [Int] {
        directions.map { $0 == .outbound ? 500212 : 500213 }
    }
}
