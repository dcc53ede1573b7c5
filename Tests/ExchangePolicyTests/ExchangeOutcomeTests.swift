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

    /// Whatever the path carries, the line holds no token: a segment with one (as the judge reads it, decoded) is
    /// `[token]`, the query is cut, and a path without one is kept as sent (review 53 F1).
    @Test(arguments: [
        ("/common/oauth2/v2.0/token", "/common/oauth2/v2.0/token"),
        ("/v1.0/users/%s/photo?x=%s", "/v1.0/users/[token]/photo"),
        ("/%s", "/[token]"),
        ("/v1.0/a;b=%s/c//d", "/v1.0/[token]/c//d"),
        ("/x/%65yJhbGciOiJub25lIn0%2EeyJ0aWQiOiJ4In0%2Esig", "/x/[token]"),
        ("/v1.0/eyJ/short.a.b", "/v1.0/eyJ/short.a.b"),
        // Spellings the judge does not read as a token, which the line must not hold either (review 55 F4).
        ("/v1.0/users/%s.json", "/v1.0/users/[token]"),
        ("/v1.0/x%s/", "/v1.0/[token]/"),
        ("/v1.0/%s==/photo", "/v1.0/[token]/photo"),
        ("/v1.0/%s.%s", "/v1.0/[token]"),
        ("/v1.0/%2565yJhbGciOiJSUzI1NiJ9%252Ex", "/v1.0/[token]"),
    ])
    func theAuditedPathHoldsNoToken(sent: String, audited: String) {
        let token = UnsignedTokens.graph(tenant: Self.contoso)
        let record = ExchangeRecord(
            host: "graph.microsoft.com",
            path: sent.replacingOccurrences(of: "%s", with: token),
            clientID: nil,
            correlationID: UUID()
        )
        let event = ExchangeOutcome(Self.verdict(.allow), mode: .enforce, upstreamAnswerReadable: true).auditEvent(
            record,
            at: Date()
        )
        #expect(event.path == audited)
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
