import Audit
import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// The connection's side of an intercepted session, one event and its whole action at a time: requests in order,
/// the waiting queue, half-close, idle, malformed input and the close (STYLE 5).
struct SessionStateMachineTests {
    typealias Machines = SessionMachines
    static let (s1, s2, s3, s4) = (Fixtures.stamp(1), Fixtures.stamp(2), Fixtures.stamp(3), Fixtures.stamp(4))

    static func get(_ path: String, keepAlive: Bool = true) -> HTTPRequestHead {
        Fixtures.request(.GET, path, keepAlive: keepAlive)
    }

    static func forward(_ path: String) -> SessionStateMachine.Action {
        .forward(Fixtures.upstream(get(path)), body: nil)
    }

    @Test func pipelinedRequestsWaitStopReadingAndAreServedInOrder() {
        var machine = Machines.make()
        #expect(Machines.send(Self.get("/first"), body: nil, to: &machine, at: Self.s1) == Self.forward("/first"))
        #expect(Machines.send(Self.get("/second"), body: nil, to: &machine, at: Self.s1) == .stopReading)
        #expect(Machines.send(Self.get("/third"), body: nil, to: &machine, at: Self.s1) == .none)
        let one = Fixtures.answer(.ok, "1")
        #expect(machine.upstreamResponded(one, at: Self.s2) == .answer(Fixtures.forwarded(one)))
        #expect(machine.answerSent(at: Self.s2) == Self.forward("/second"))
        let two = Fixtures.answer(.ok, "2")
        #expect(machine.upstreamResponded(two, at: Self.s3) == .answer(Fixtures.forwarded(two)))
        #expect(machine.answerSent(at: Self.s3) == .resumeReading(then: Self.forward("/third")))
    }

    @Test func morePipelinedRequestsThanTheQueueHoldsEndTheSession() {
        var machine = Machines.make()
        _ = Machines.send(Self.get("/first"), body: nil, to: &machine, at: Self.s1)
        for index in 0..<SessionStateMachine.maxWaiting {
            #expect(
                Machines.send(Self.get("/\(index)"), body: nil, to: &machine, at: Self.s1)
                    == (index == 0 ? .stopReading : .none)
            )
        }
        #expect(Machines.send(Self.get("/overflow"), body: nil, to: &machine, at: Self.s1) == .close)
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "late"), at: Self.s2) == .none)
    }

    @Test func aHalfClosedClientGetsItsAnswerThenTheConnectionCloses() {
        var machine = Machines.make()
        _ = Machines.send(Self.get("/common/discovery/keys"), body: nil, to: &machine, at: Self.s1)
        #expect(machine.inputClosed() == .none)
        let keys = Fixtures.answer(.ok, "{}")
        #expect(machine.upstreamResponded(keys, at: Self.s2) == .answer(Fixtures.forwarded(keys, closes: true)))
        #expect(machine.answerSent(at: Self.s3) == .none)
    }

    @Test func aHalfCloseBetweenRequestsCloses() {
        var machine = Machines.make()
        #expect(machine.inputClosed() == .close)
        #expect(Machines.send(Self.get("/late"), body: nil, to: &machine, at: Self.s1) == .none)
    }

    @Test func theIdleTimeoutClosesOnlyWhenNoAnswerIsOwed() {
        var idle = Machines.make()
        #expect(idle.idleTimeoutFired() == .close)
        var busy = Machines.make()
        _ = Machines.send(Self.get("/slow"), body: nil, to: &busy, at: Self.s1)
        #expect(busy.idleTimeoutFired() == .none)
        let slow = Fixtures.answer(.ok, "{}")
        #expect(busy.upstreamResponded(slow, at: Self.s2) == .answer(Fixtures.forwarded(slow)))
        // Written and not taken (the client stopped reading): not owed, so the idle client is not waited for.
        #expect(busy.idleTimeoutFired() == .close)
        var closing = Machines.make()
        _ = Machines.send(Self.get("/once", keepAlive: false), body: nil, to: &closing, at: Self.s1)
        _ = closing.upstreamResponded(slow, at: Self.s2)
        #expect(closing.idleTimeoutFired() == .close)
    }

    @Test func aConnectionRequestNotKeptAliveClosesAfterItsAnswer() {
        var machine = Machines.make()
        _ = Machines.send(Self.get("/once", keepAlive: false), body: nil, to: &machine, at: Self.s1)
        let once = Fixtures.answer(.ok, "{}")
        #expect(
            machine.upstreamResponded(once, at: Self.s2)
                == .answer(Fixtures.forwarded(once, keepAlive: false, closes: true))
        )
    }

    /// Behind a request being answered, the refusal waits its turn (review 63 F2: the session ended at once, and the
    /// answer owed before it was lost).
    @Test func aMalformedRequestIsAnsweredWhenIdleAndAfterTheAnswerOwedOtherwise() {
        var idle = Machines.make()
        let refusal = ProxyAnswer.error(
            .badRequest,
            "invalid_request",
            "not HTTP",
            correlationID: Self.s1.correlationID,
            at: Self.s1.date
        )
        #expect(
            idle.malformedRequest(status: .badRequest, "not HTTP", at: Self.s1)
                == .answer(Fixtures.own(refusal, keepAlive: false))
        )
        var busy = Machines.make()
        _ = Machines.send(Self.get("/slow"), body: nil, to: &busy, at: Self.s1)
        #expect(busy.malformedRequest(status: .badRequest, "not HTTP", at: Self.s2) == .stopReading)
        // What follows the bad bytes is not read (review 65 F1: it went upstream and was answered in their place).
        #expect(Machines.send(Self.get("/after"), body: nil, to: &busy, at: Self.s2) == .none)
        let response = Fixtures.answer(.ok, "slow")
        #expect(busy.upstreamResponded(response, at: Self.s3) == .answer(Fixtures.forwarded(response)))
        let later = ProxyAnswer.error(
            .badRequest,
            "invalid_request",
            "not HTTP",
            correlationID: Self.s2.correlationID,
            at: Self.s2.date
        )
        #expect(busy.answerSent(at: Self.s3) == .answer(Fixtures.own(later, keepAlive: false)))
    }

    @Test func aBodyOverTheInspectionLimitGets413() {
        var machine = Machines.make()
        #expect(machine.requestPartReceived(.head(Fixtures.request(Machines.organizations)), at: Self.s1) == .none)
        let tooLarge = ProxyAnswer.error(
            .payloadTooLarge,
            "invalid_request",
            "the request body exceeds the inspection limit",
            correlationID: Self.s2.correlationID,
            at: Self.s2.date
        )
        #expect(
            machine.requestPartReceived(.body(ByteBuffer(repeating: 0x61, count: 2048)), at: Self.s2)
                == .answer(Fixtures.own(tooLarge, keepAlive: false))
        )
        #expect(machine.requestPartReceived(.end(nil), at: Self.s3) == .none)
    }

    @Test func eventsAfterTheChannelClosedChangeNothing() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Machines.organizations), to: &machine, at: Self.s1)
        _ = machine.upstreamFailed(.timedOut, at: Self.s2)
        machine.channelClosed()
        #expect(machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam), at: Self.s2) == .none)
        #expect(machine.upstreamFailed(.timedOut, at: Self.s2) == .none)
        #expect(machine.auditWritten() == .none)
        #expect(machine.auditFailed(correlationID: Self.s1.correlationID, at: Self.s2) == .none)
        #expect(machine.answerSent(at: Self.s3) == .none)
        #expect(machine.idleTimeoutFired() == .none)
        #expect(machine.inputClosed() == .none)
        #expect(machine.requestPartReceived(.head(Self.get("/")), at: Self.s4) == .none)
    }

    /// The client hung up while its request was upstream: the STS's answer is still judged and audited, and nothing
    /// is written or started after it.
    @Test func aRequestUpstreamWhenTheClientLeftIsStillAudited() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Machines.organizations), to: &machine, at: Self.s1)
        machine.channelClosed()
        let judged = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam), at: Self.s2)
        guard case .writeAudit(let event) = judged else {
            Issue.record("the answer was not audited: \(judged)")
            return
        }
        #expect(event.decision == .allowed)
        #expect(machine.auditWritten() == .none)
        #expect(machine.answerSent(at: Self.s3) == .none)
        #expect(machine.requestPartReceived(.head(Self.get("/")), at: Self.s4) == .none)
    }

    /// One more request waiting than the queue holds, while a token request is upstream, closes the connection as a
    /// hang-up does: the STS's answer is still judged and audited.
    @Test func aSessionEndedBehindARequestUpstreamStillAuditsIt() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Machines.organizations), to: &machine, at: Self.s1)
        for index in 0..<SessionStateMachine.maxWaiting {
            _ = Machines.send(Self.get("/\(index)"), body: nil, to: &machine, at: Self.s2)
        }
        #expect(Machines.send(Self.get("/overflow"), body: nil, to: &machine, at: Self.s2) == .close)
        #expect(machine.requestPartReceived(.head(Self.get("/after")), at: Self.s2) == .none)
        let judged = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.northwind), at: Self.s3)
        guard case .writeAudit(let event) = judged else {
            Issue.record("the answer was not audited: \(judged)")
            return
        }
        #expect(event.decision == .blocked)
        #expect(machine.auditWritten() == .none)
    }

    /// A client that waits for `100 Continue` before it sends the body the proxy reads to judge gets it at once (else
    /// it waits its own timeout: 1 s for curl, 350 ms for .NET Framework); one pipelined behind another does not.
    @Test func aRequestThatExpectsContinueGetsItWhenItIsTheOneAnswered() {
        var machine = Machines.make()
        var head = Fixtures.request(Machines.organizations)
        head.headers.add(name: "Expect", value: "100-continue")
        #expect(machine.requestPartReceived(.head(head), at: Self.s1) == .sendContinue)
        _ = machine.requestPartReceived(.body(Fixtures.form()), at: Self.s1)
        guard case .forward(let upstream, _) = machine.requestPartReceived(.end(nil), at: Self.s1) else {
            Issue.record("the exchange goes upstream")
            return
        }
        #expect(!upstream.headers.contains(name: "expect"), "the body goes with the head")
        #expect(machine.requestPartReceived(.head(head), at: Self.s2) == .none)
    }

    @Test func anAuditLineThatLandsAfterTheCloseAnswersNothing() {
        var machine = Machines.make()
        let path = "/\(Fixtures.northwind)/oauth2/v2.0/token"
        guard case .writeAudit = Machines.send(Fixtures.request(path), to: &machine, at: Self.s1) else {
            Issue.record("the refusal is audited first")
            return
        }
        machine.channelClosed()
        #expect(machine.auditWritten() == .none)
    }

    @Test func eventsThatDoNotFitTheRequestsStepChangeNothing() {
        var machine = Machines.make()
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "{}"), at: Self.s1) == .none)
        #expect(machine.auditWritten() == .none)
        #expect(machine.answerSent(at: Self.s1) == .none)
        _ = Machines.send(Self.get("/first"), body: nil, to: &machine, at: Self.s1)
        #expect(machine.auditWritten() == .none)
        #expect(machine.answerSent(at: Self.s2) == .none)
        let first = Fixtures.answer(.ok, "1")
        #expect(machine.upstreamResponded(first, at: Self.s2) == .answer(Fixtures.forwarded(first)))
        #expect(machine.upstreamResponded(first, at: Self.s3) == .none)
        #expect(machine.upstreamFailed(.timedOut, at: Self.s3) == .none)
        #expect(machine.answerSent(at: Self.s3) == .none)
        #expect(machine.answerSent(at: Self.s4) == .none)
    }
}
