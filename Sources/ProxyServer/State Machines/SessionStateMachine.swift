import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1

/// One intercepted session, as a value: its requests in order, each run by a `RequestStateMachine`, and the
/// connection's own life (waiting requests, half-close, idle, closing). As async-http-client's
/// `HTTP1ConnectionStateMachine`, it translates its request machine's actions in one place (`translate`).
///
/// Events are facts the handler saw; each returns the one `Action` the handler carries out. Events that may
/// start a request or answer carry an `EventStamp`.
///
/// Requests are answered one at a time, in order: one that arrives while another is answered (pipelining) waits,
/// and the first to wait stops reading until the queue drains, so a pipelining client holds at most one read's
/// requests in memory.
struct SessionStateMachine {
    enum Action: Equatable {
        case none
        /// Send this request to the session's host; then report `upstreamResponded` or `upstreamFailed`.
        case forward(HTTPRequestHead, body: ByteBuffer?)
        /// Write this audit line; then report `auditWritten` or `auditFailed`.
        case writeAudit(AuditEvent)
        /// Write this answer; then report `answerSent`, unless it closes the connection.
        case answer(SessionAnswer)
        /// A request waits behind another: stop reading until the queue drains.
        case stopReading
        /// The queue drained: read again, then do `then`.
        indirect case resumeReading(then: Action)
        /// Count a judged resource request, then do `then`.
        indirect case count(ResourceCount, then: Action)
        /// Answer `100 Continue`: the client waits for it before it sends the body the proxy reads to judge.
        case sendContinue
        case close
    }

    /// Pipelined requests held at most (all from one read, as reading stops while one waits); more: disconnected.
    static let maxWaiting = 16

    /// Allowed transitions: idle → exchanging | closing | closed; exchanging → idle | exchanging (the next
    /// request) | closing | closed; closing → closed. `closed` absorbs every later event. A request upstream when the
    /// connection closes stays `exchanging` until its answer is judged and audited (`clientGone`), then `closed`.
    private enum State {
        /// No request is being answered; reading.
        case idle
        /// One request is being answered.
        case exchanging(RequestStateMachine)
        /// The connection's last answer is being written.
        case closing
        case closed
        /// Only while a request machine handles an event, so that it is mutated in place, not copied.
        case modifying
    }

    private let session: InterceptedSession
    private let currentDecider: () -> ExchangeDecider
    private var state = State.idle
    private var incoming: HTTPMessageGatherer<HTTPRequestHead>
    private var waiting = CircularBuffer<NIOHTTPServerRequestFull>()
    /// The client half-closed: what it asked is answered, then the connection closes.
    private var clientHalfClosed = false
    /// The connection closed while its request was upstream: the answer is still judged and audited (the STS issued
    /// what it issued, and a probe that hangs up early leaves its trace), and nothing is written.
    private var clientGone = false
    /// The client sent what ends the session (too many waiting) while a request was answered: nothing more is read,
    /// and the connection closes as if the client had hung up.
    private var inputRefused = false
    /// A malformed request read while another was answered: its refusal follows the answers owed before it, then
    /// the connection closes.
    private var refusalAfterWaiting: SessionAnswer?

    /// - Parameter currentDecider: the policy in force, taken once per judged request.
    init(session: InterceptedSession, currentDecider: @escaping () -> ExchangeDecider) {
        self.session = session
        self.currentDecider = currentDecider
        self.incoming = HTTPMessageGatherer(limit: session.maxBodyBytes)
    }

    // MARK: - Events from the client

    mutating func requestPartReceived(_ part: HTTPServerRequestPart, at stamp: EventStamp) -> Action {
        // Past a malformed request, nothing more is read: its refusal follows the requests before it, then the
        // connection closes (review 65 F1: requests after it went to Entra and were answered in its place).
        guard !inputRefused, refusalAfterWaiting == nil else { return .none }
        switch state {
        case .closing, .closed, .modifying:
            return .none
        case .idle, .exchanging:
            break
        }
        if case .head(let head) = part, let problem = RequestFraming.unsupportedTransferCoding(head.headers) {
            return malformedRequest(status: .notImplemented, problem, at: stamp)
        }
        switch incoming.receive(part) {
        case .incomplete:
            // Only the request being answered may get an interim answer: one waiting behind another gets its own
            // when it is started, which a client that waits for it never lets happen, so it sends the body anyway.
            guard case .head(let head) = part, case .idle = state, StreamedRequestHead.expectsContinue(head) else {
                return .none
            }
            return .sendContinue
        case .tooLarge:
            return malformedRequest(
                status: .payloadTooLarge,
                "the request body exceeds the inspection limit",
                at: stamp
            )
        case .complete(let head, let body):
            return received(NIOHTTPServerRequestFull(head: head, body: body), at: stamp)
        }
    }

    /// The request could not be parsed: an answer when nothing else is being answered; otherwise after the answers
    /// owed (an answer cannot jump the queue). Review 63 F2: the session ended at once, and a well-formed request's
    /// answer (its token issued and audited) was lost to the bytes after it.
    mutating func malformedRequest(status: HTTPResponseStatus, _ message: String, at stamp: EventStamp) -> Action {
        guard !inputRefused, refusalAfterWaiting == nil else { return .none }
        let refusal = SessionAnswer.error(status, "invalid_request", message, stamp: stamp, keepAlive: false)
        switch state {
        case .idle:
            return answer(refusal)
        case .exchanging:
            refusalAfterWaiting = refusal
            return .stopReading
        case .closing, .closed, .modifying:
            return .none
        }
    }

    /// Ends the session while a request is answered. The request stays in place: one upstream is still judged and
    /// audited, and its answer is not written.
    private mutating func refuseInput() -> Action {
        inputRefused = true
        waiting.removeAll()
        return .close
    }

    mutating func inputClosed() -> Action {
        clientHalfClosed = true
        switch state {
        case .idle:
            state = .closing
            return .close
        case .exchanging, .closing, .closed, .modifying:
            return .none
        }
    }

    /// Nothing was read for the idle time: closed unless an answer is owed (`IdlePolicy`).
    mutating func idleTimeoutFired() -> Action {
        let owesAnswer: Bool
        switch state {
        // An answer written and not taken is not owed: a client that stops reading its answers is not waited for.
        case .idle, .closing: owesAnswer = false
        case .exchanging(let request): owesAnswer = !request.isAnswering
        case .closed, .modifying: return .none
        }
        guard IdlePolicy.closes(owesAnswer: owesAnswer) else { return .none }
        state = .closing
        return .close
    }

    mutating func channelClosed() {
        waiting.removeAll()
        if case .exchanging(let request) = state, request.awaitsUpstream {
            clientGone = true
        } else {
            state = .closed
        }
    }

    private mutating func received(_ request: NIOHTTPServerRequestFull, at stamp: EventStamp) -> Action {
        switch state {
        case .idle:
            return start(request, at: stamp)
        case .exchanging:
            guard waiting.count < Self.maxWaiting else { return refuseInput() }
            waiting.append(request)
            return waiting.count == 1 ? .stopReading : .none
        case .closing, .closed, .modifying:
            return .none
        }
    }

    private mutating func start(_ request: NIOHTTPServerRequestFull, at stamp: EventStamp) -> Action {
        let (machine, action) = RequestStateMachine.start(
            request,
            session: session,
            currentDecider: currentDecider,
            at: stamp
        )
        state = .exchanging(machine)
        return translate(action)
    }

    // MARK: - Events of the request being answered

    mutating func upstreamResponded(_ response: NIOHTTPClientResponseFull, at stamp: EventStamp) -> Action {
        let currentDecider = self.currentDecider
        return withRequest { $0.upstreamResponded(response, currentDecider: currentDecider, at: stamp) }
    }

    mutating func upstreamFailed(_ failure: UpstreamError, at stamp: EventStamp) -> Action {
        withRequest { $0.upstreamFailed(failure, at: stamp) }
    }

    mutating func auditWritten() -> Action {
        withRequest { $0.auditWritten() }
    }

    mutating func auditFailed(correlationID: UUID, at stamp: EventStamp) -> Action {
        withRequest { $0.auditFailed(correlationID: correlationID, at: stamp) }
    }

    /// Whether requests wait for the one being answered (reading is paused for them).
    var holdsWaitingRequests: Bool { !waiting.isEmpty }

    /// The answer is written to the channel: the next waiting request is served, or reading goes on.
    mutating func answerSent(at stamp: EventStamp) -> Action {
        guard case .exchanging(let request) = state, request.isAnswering else { return .none }
        state = .idle
        guard let next = waiting.popFirst() else {
            guard let refusal = refusalAfterWaiting else { return .none }
            refusalAfterWaiting = nil
            return answer(refusal)
        }
        let action = start(next, at: stamp)
        return waiting.isEmpty && refusalAfterWaiting == nil ? .resumeReading(then: action) : action
    }

    /// Hands an event to the request being answered, in place; nil from it means the event did not fit.
    private mutating func withRequest(
        _ event: (inout RequestStateMachine) -> RequestStateMachine.Action?
    ) -> Action {
        guard case .exchanging(var request) = state else { return .none }
        state = .modifying
        let action = event(&request)
        state = .exchanging(request)
        return action.map { translate($0) } ?? .none
    }

    /// The one place a request's action becomes the session's.
    private mutating func translate(_ action: RequestStateMachine.Action) -> Action {
        switch action {
        case .forward(let head, let body): .forward(head, body: body)
        case .writeAudit(let event): .writeAudit(event)
        case .answer(let answer): self.answer(answer)
        case .count(let count, let then): .count(count, then: translate(then))
        }
    }

    /// An answer closes the connection when it is not kept alive, or when the client half-closed and nothing
    /// else waits; the request machine stays in place until `answerSent` otherwise.
    private mutating func answer(_ answer: SessionAnswer) -> Action {
        guard !clientGone, !inputRefused else {
            state = .closed
            return .none
        }
        var answer = answer
        answer.closesConnection = !answer.keepAlive || (clientHalfClosed && waiting.isEmpty)
        if answer.closesConnection {
            state = .closing
            waiting.removeAll()
        }
        return .answer(answer)
    }
}
