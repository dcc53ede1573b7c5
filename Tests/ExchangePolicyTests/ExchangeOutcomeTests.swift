import Audit
import ExchangePolicy
import Foundation
import TenantPolicy
import TestSupport
import Testing

/// One verdict, shaped once: the decision, the answer and the labels each (outcome, mode) pair gives.
struct ExchangeOutcomeTests {
    static let contoso = ExampleTenants.contoso

    static func verdict(_ outcome: ExchangeVerdict.Outcome) -> ExchangeVerdict {
        ExchangeVerdict(
            outcome: outcome,
            directions: outcome == .block ? [.outbound] : [],
            creatorTenant: contoso,
            signInTenant: nil,
            reason: "because",
            errorCodes: outcome == .block ? [500212] : [],
            setting: outcome == .block ? "tenantIsolation" : nil
        )
    }

    @Test(arguments: [
        (
            ExchangeVerdict.Outcome.allow, EnforcementMode.enforce, true, AuditDecision.allowed,
            ExchangeOutcome.Answer.forwardUpstreamAnswer
        ),
        (.allow, .reportOnly, true, .allowed, .forwardUpstreamAnswer),
        (.unenforced, .enforce, true, .unenforced, .forwardUpstreamAnswer),
        (.block, .enforce, true, .blocked, .forbidden),
        (.block, .enforce, false, .blocked, .forbidden),
        (.block, .reportOnly, true, .wouldBlock, .forwardUpstreamAnswer),
        (.block, .reportOnly, false, .wouldBlock, .badGateway),
        (.allow, .enforce, false, .allowed, .badGateway),
    ])
    func eachVerdictAndModeHasOneOutcome(
        outcome: ExchangeVerdict.Outcome,
        mode: EnforcementMode,
        readable: Bool,
        decision: AuditDecision,
        answer: ExchangeOutcome.Answer
    ) {
        let shaped = ExchangeOutcome(Self.verdict(outcome), mode: mode, upstreamAnswerReadable: readable)
        #expect(shaped.decision == decision)
        #expect(shaped.answer == answer)
    }

    @Test func theAuditLineAndTheLabelsCarryTheSameDecision() {
        let record = ExchangeRecord(
            host: "login.microsoftonline.com",
            path: "/common/oauth2/v2.0/token",
            clientID: "app",
            correlationID: UUID()
        )
        let event = ExchangeOutcome(Self.verdict(.block), mode: .reportOnly, upstreamAnswerReadable: true).auditEvent(
            record,
            at: Date()
        )
        #expect(event.decision == .wouldBlock)
        #expect(event.errorCode == 500212)
        #expect(event.correlationID == record.correlationID)
        let labels = DecisionLabels(event)
        #expect(labels.decision == .wouldBlock)
        #expect(labels.refusedDirections == [.outbound])
        #expect(labels.refusingSetting == "tenantIsolation")
        #expect(labels.unenforcedHost == nil)
        let allowed = ExchangeOutcome(Self.verdict(.allow), mode: .enforce, upstreamAnswerReadable: true).auditEvent(
            record,
            at: Date()
        )
        #expect(allowed.errorCode == nil)
        #expect(DecisionLabels(allowed).refusingSetting == nil)
        let unenforced = ExchangeOutcome(Self.verdict(.unenforced), mode: .enforce, upstreamAnswerReadable: true)
        #expect(DecisionLabels(unenforced.auditEvent(record, at: Date())).unenforcedHost == "login.microsoftonline.com")
    }
}
