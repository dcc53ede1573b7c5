import Audit
import Foundation
import TenantPolicy

/// What one verdict becomes under the mode in force: the audit decision, the labels the metrics count, and the
/// answer the client gets. The only place a verdict is reshaped (SPEC 4 `--mode`).
package struct ExchangeOutcome: Sendable, Equatable {
    package enum Answer: Sendable, Equatable {
        /// The STS's answer goes to the client, as read and judged.
        case forwardUpstreamAnswer
        /// 403 with the Entra-shaped body (`BlockedResponseBody`).
        case forbidden
        /// Nothing readable to pass on (an answer that could not be read, let through in report-only): 502.
        case badGateway
    }

    package let verdict: ExchangeVerdict
    package let decision: AuditDecision
    package let answer: Answer

    /// - Parameter upstreamAnswerReadable: whether the STS's answer was read, so that it may be passed on.
    package init(_ verdict: ExchangeVerdict, mode: EnforcementMode, upstreamAnswerReadable: Bool) {
        self.verdict = verdict
        switch (verdict.outcome, mode) {
        case (.allow, _): decision = .allowed
        case (.unenforced, _): decision = .unenforced
        case (.block, .enforce): decision = .blocked
        case (.block, .reportOnly): decision = .wouldBlock
        }
        if decision == .blocked {
            answer = .forbidden
        } else {
            answer = upstreamAnswerReadable ? .forwardUpstreamAnswer : .badGateway
        }
    }

    /// The audit line: the record's fields, the verdict's, and the decision.
    package func auditEvent(_ record: ExchangeRecord, at time: Date) -> AuditEvent {
        var event = record.event(
            decision: decision,
            creator: verdict.creatorTenant,
            signIn: verdict.signInTenant,
            reason: verdict.reason,
            at: time
        )
        event.directions = verdict.directions
        event.rule = verdict.rule
        event.homeTenant = verdict.homeTenant
        event.setting = verdict.setting
        event.errorCode = decision.isRefusal ? verdict.errorCodes.first : nil
        return event
    }
}
