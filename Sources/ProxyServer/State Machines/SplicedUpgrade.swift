import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1

/// A spliced WebSocket carries no request to judge. When what judged its upgrade may have changed (a new policy
/// version, its creator's grant ended), the upgrade request is judged again as if it came now: the splice stands if
/// it would be sent on, and ends if it would be refused. Review 23 saw one carry Contoso -> Fabrikam traffic after
/// the rule allowing it was deleted; ending every WebSocket on any change cut the ones the change left allowed. A
/// request whose body is still streaming when the policy changes is judged again the same way.
enum SplicedUpgrade {
    enum Verdict: Equatable {
        /// Still allowed (or only recorded, in report-only mode); the line is its first under this policy version.
        case stands(audit: AuditEvent?)
        /// Refused now: the line records the refusal; the answer is the refusal a request sent now would get.
        case ends(audit: AuditEvent?, answer: SessionAnswer?)
    }

    /// - Parameter form: the form body the request was first judged with, if it had one (it may carry the token).
    static func judge(
        _ upgrade: HTTPRequestHead,
        form: ByteBuffer? = nil,
        session: InterceptedSession,
        decider: ExchangeDecider,
        at stamp: EventStamp
    ) -> Verdict {
        var (machine, action) = RequestStateMachine.start(
            NIOHTTPServerRequestFull(head: upgrade, body: form),
            session: session,
            currentDecider: { decider },
            at: stamp
        )
        var line: AuditEvent?
        // A resource request counts, may write a line, then is forwarded or answered: three steps at most.
        for _ in 0..<4 {
            switch action {
            case .count(_, let then):
                action = then
            case .writeAudit(let event):
                line = event
                // The line is recorded without waiting for it: the token's verdict is not kept for its later
                // requests, which then have a line of their own (review 62 F2: a line that failed left the token
                // known under the new version, and its requests on other connections went through with none).
                machine.verdictToKeep = nil
                guard let next = machine.auditWritten() else { return .ends(audit: line, answer: nil) }
                action = next
            case .forward:
                return .stands(audit: line)
            case .answer(let answer):
                return .ends(audit: line, answer: answer)
            }
        }
        return .ends(audit: line, answer: nil)
    }
}
