import Audit
import TenantPolicy

/// The labels one audited decision is counted under (SPEC 5 "Observable"): typed, so the metrics never parse a
/// string, and derived from the audit line so that the counters and the log always agree.
package struct DecisionLabels: Sendable, Equatable {
    package let decision: AuditDecision
    /// The directions that refused; empty unless refused.
    package let refusedDirections: [Direction]
    /// The setting that refused; nil unless refused.
    package let refusingSetting: String?
    /// The STS of an unenforced exchange: the known gap is counted per STS (SPEC 2.3).
    package let unenforcedHost: String?

    package init(_ event: AuditEvent) {
        decision = event.decision
        refusedDirections = event.decision.isRefusal ? event.directions : []
        refusingSetting = event.decision.isRefusal ? event.setting : nil
        unenforcedHost = event.decision == .unenforced ? event.host : nil
    }
}
