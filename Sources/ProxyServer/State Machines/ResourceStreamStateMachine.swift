import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1

/// The requests of an intercepted session on a resource host (SPEC 4.2) as a value, their bodies streamed: each
/// request is judged on its head (and on a form body, read whole: it may carry `access_token`), then its body and
/// its answer pass part by part between the client and one upstream connection. The judging is
/// `RequestStateMachine`'s, nested for the request's head; what is held, sent, answered and spliced is decided here.
/// The handler only moves bytes and reports (`ResourceSessionHandler`).
struct ResourceStreamStateMachine {
    enum Action: Equatable {
        case none
        /// Count a judged request, then do `then`.
        indirect case count(ResourceCount, then: Action)
        /// Write this audit line, reading nothing from the client meanwhile; then report `auditWritten` or
        /// `auditFailed`.
        case writeAudit(AuditEvent)
        /// Write this audit line without waiting for it (a line that cannot be written ends the session), and do
        /// `then`.
        indirect case recordAudit(AuditEvent, then: Action)
        /// Get an upstream connection (a kept one, or a new one, reading nothing from the client meanwhile); then
        /// report `upstreamConnected` or `upstreamEnded`.
        case openUpstream
        /// Send `parts` on the connection just got; then answer `100 Continue` when `sendContinue`, and read the
        /// client again.
        case startUpstream([HTTPClientRequestPart], sendContinue: Bool)
        /// Answer `100 Continue`: the client waits for it before it sends the form the proxy reads to judge.
        case sendContinue
        /// Send a part of the request's body, or its end, on the upstream connection.
        case sendUpstream(HTTPClientRequestPart)
        /// Write a part of the upstream's answer to the client (flushed with the upstream read that brought it).
        case respond(HTTPServerResponsePart)
        /// Write the answer's end and flush; give the upstream connection back when `keepUpstream`; then read the
        /// next request, or close once written when `close`.
        case finishResponse(HTTPHeaders?, keepUpstream: Bool, close: Bool)
        /// Write the proxy's own answer; then read the next request, or close once written when `close`.
        case answer(SessionAnswer, close: Bool)
        /// The upstream's answer is not the client's: close that connection, then as `answer`.
        case replaceAnswer(SessionAnswer, close: Bool)
        /// The 101 went out and ended: take the HTTP handlers off both connections and splice them.
        case splice
        case close
    }

    /// A request not yet streaming: its head, and what of its body arrived while it was judged or connected.
    struct Pending: Equatable {
        let head: HTTPRequestHead
        /// The body read while the request waits (a form, or the judging and the connecting), copied into one buffer:
        /// a part held as it came is a slice that keeps the TLS layer's whole 32 KiB read buffer alive, so a client
        /// sending one byte a record held 32 KiB for each byte the body limit counted.
        var body = ByteBuffer()
        var ended = false
        /// Sent once already, on a kept connection the server closed under it: not tried a third time.
        var replayed = false
        /// The generation of the decider (policy version) that judged it.
        var judgedUnder: UInt64?
    }

    struct Exchange {
        /// The client's request head, judged again when the policy changes before its body ends.
        let head: HTTPRequestHead
        /// The form it was judged with, kept to be judged with again: a token may be in it (review 44 F1).
        let form: ByteBuffer?
        var judgedUnder: UInt64?
        var keepAlive: Bool
        /// The WebSocket upgrade this exchange asks for (judged on its head), if it is one.
        let upgrade: HTTPRequestHead?
        var requestEnded: Bool
        var responseStarted = false
        /// Whether the upstream's answer lets its connection serve another request.
        var upstreamKeepAlive = false
        /// The upstream answered 101 to the upgrade; the splice follows that answer's end.
        var switching = false
        /// A request sent on a kept connection that can go again as it was: nothing of it but its head, and a
        /// method that does the same twice (RFC 9110 9.2.2). A kept connection the server closed as the request
        /// crossed it gets one more try on another, as the token path's pool does.
        var replay: (pending: Pending, upstreamHead: HTTPRequestHead)?
    }

    /// Allowed transitions: idle → collectingForm | judging | closed; collectingForm → judging | closed;
    /// judging → connecting | idle | closed; connecting → streaming | closed; streaming → idle | spliced | closed.
    /// Events that do not fit the state change nothing.
    enum State {
        case idle
        case collectingForm(Pending)
        case judging(Pending, RequestStateMachine)
        case connecting(Pending, upstreamHead: HTTPRequestHead)
        case streaming(Exchange)
        /// Bytes both ways since its upgrade, which `SplicedUpgrade` judges again when the policy may have changed.
        case spliced(upgrade: HTTPRequestHead)
        case closed
    }

    let session: InterceptedSession
    let currentDecider: () -> ExchangeDecider
    /// Changed only by the machine's own methods (here and in `+Upstream`).
    var state = State.idle

    init(session: InterceptedSession, currentDecider: @escaping () -> ExchangeDecider) {
        self.session = session
        self.currentDecider = currentDecider
    }

    /// The bytes of a form kept while its request streams, which still count against the proxy's body memory.
    var keptFormBytes: Int {
        if case .streaming(let exchange) = state { exchange.form?.readableBytes ?? 0 } else { 0 }
    }

    /// Whether body parts the client sends now are held (and count against the proxy's body memory).
    var holdsBody: Bool {
        switch state {
        case .collectingForm, .judging, .connecting: true
        case .idle, .streaming, .spliced, .closed: false
        }
    }

    /// Whether the request's body is being sent upstream, so the client reads only while upstream can take it.
    var sendsRequestBody: Bool {
        if case .streaming(let exchange) = state { !exchange.requestEnded } else { false }
    }

    /// Whether an answer is being relayed: nothing is asked of the client meanwhile, whatever its idle timer says.
    var isStreaming: Bool {
        if case .streaming = state { true } else { false }
    }

    /// The WebSocket upgrade whose connections are spliced, once they are.
    var splicedUpgrade: HTTPRequestHead? {
        if case .spliced(let upgrade) = state { upgrade } else { nil }
    }

    // MARK: - The client

    mutating func requestHead(_ head: HTTPRequestHead, at stamp: EventStamp) -> Action {
        guard case .idle = state else { return close() }
        if let problem = RequestFraming.unsupportedTransferCoding(head.headers) {
            return own(.error(.notImplemented, "invalid_request", problem, stamp: stamp, keepAlive: false))
        }
        let pending = Pending(head: head)
        if StreamedRequestHead.carriesForm(head) {
            // A form declared larger than may be held is refused now, not when the head's deadline ends it.
            if BoundedBody(limit: session.maxBodyBytes).refuses(declaredLength: head.headers) {
                return tooLarge(at: stamp)
            }
            state = .collectingForm(pending)
            return StreamedRequestHead.expectsContinue(head) ? .sendContinue : .none
        }
        return judge(pending, at: stamp)
    }

    mutating func requestBody(_ chunk: ByteBuffer, at stamp: EventStamp) -> Action {
        // Each arm lets go of the state's copy before it appends (`state = .closed` for that moment), so the held
        // body has one owner and grows in place: else every part copied the whole body read so far.
        switch state {
        case .collectingForm(var pending):
            state = .closed
            guard hold(chunk, in: &pending) else { return tooLarge(at: stamp) }
            state = .collectingForm(pending)
        case .judging(var pending, let machine):
            state = .closed
            guard hold(chunk, in: &pending) else { return tooLarge(at: stamp) }
            state = .judging(pending, machine)
        case .connecting(var pending, let head):
            state = .closed
            guard hold(chunk, in: &pending) else { return tooLarge(at: stamp) }
            state = .connecting(pending, upstreamHead: head)
        case .streaming(let exchange) where !exchange.requestEnded:
            return stillAllowed(exchange, at: stamp, then: .sendUpstream(.body(.byteBuffer(chunk))))
        case .idle, .streaming, .spliced, .closed:
            break  // the body of a request already answered
        }
        return .none
    }

    mutating func requestEnd(at stamp: EventStamp) -> Action {
        switch state {
        case .collectingForm(var pending):
            pending.ended = true
            return judge(pending, at: stamp)
        case .judging(var pending, let machine):
            pending.ended = true
            state = .judging(pending, machine)
        case .connecting(var pending, let head):
            pending.ended = true
            state = .connecting(pending, upstreamHead: head)
        case .streaming(var exchange) where !exchange.requestEnded:
            exchange.requestEnded = true
            return stillAllowed(exchange, at: stamp, then: .sendUpstream(.end(nil)))
        case .idle, .streaming, .spliced, .closed:
            break
        }
        return .none
    }

    /// The proxy holds its budget of bodies in memory: 503, and the connection ends.
    mutating func overloaded(at stamp: EventStamp) -> Action {
        own(.error(.serviceUnavailable, "overloaded", BodyMemoryBudget.refusal, stamp: stamp, keepAlive: false))
    }

    /// A request the decoder could not read: answered when none is under way, else the connection just ends.
    mutating func malformedRequest(status: HTTPResponseStatus, _ message: String, at stamp: EventStamp) -> Action {
        guard case .idle = state else { return close() }
        return own(.error(status, "malformed_request", message, stamp: stamp, keepAlive: false))
    }

    /// The client sent nothing for the idle limit. A download it reads needs nothing from it; one it stopped
    /// reading stalls the upstream connection, whose own silence limit then ends both.
    mutating func idleTimeoutFired() -> Action {
        isStreaming ? .none : close()
    }

    mutating func inputClosed() -> Action {
        if case .idle = state { return close() }
        return .none
    }

    mutating func channelClosed() {
        state = .closed
    }

    // MARK: - Judging

    private mutating func judge(_ pending: Pending, at stamp: EventStamp) -> Action {
        // A form was read whole: it is judged as one body and sent on as one.
        let formBody = StreamedRequestHead.isForm(pending.head) && pending.ended ? pending.body : nil
        let decider = currentDecider()
        var pending = pending
        pending.judgedUnder = decider.generation
        let (machine, action) = RequestStateMachine.start(
            NIOHTTPServerRequestFull(head: pending.head, body: formBody),
            session: session,
            currentDecider: { decider },
            at: stamp
        )
        state = .judging(pending, machine)
        return translate(action)
    }

    mutating func auditWritten() -> Action {
        guard case .judging(let pending, var machine) = state, let next = machine.auditWritten() else { return .none }
        state = .judging(pending, machine)
        return translate(next)
    }

    mutating func auditFailed(correlationID: UUID, at stamp: EventStamp) -> Action {
        guard case .judging(let pending, var machine) = state,
            let next = machine.auditFailed(correlationID: correlationID, at: stamp)
        else { return .none }
        state = .judging(pending, machine)
        return translate(next)
    }

    /// The judge's actions in this machine's terms: its forward becomes an upstream connection for the stream.
    private mutating func translate(_ action: RequestStateMachine.Action) -> Action {
        guard case .judging(let pending, _) = state else { return .none }
        switch action {
        case .count(let count, let then):
            return .count(count, then: translate(then))
        case .writeAudit(let event):
            return .writeAudit(event)
        case .forward(let judged, _):
            state = .connecting(
                pending,
                upstreamHead: StreamedRequestHead.upstream(judged: judged, client: pending.head)
            )
            return .openUpstream
        case .answer(let answer):
            // After an upgrade request the decoder reads no further request; a body not read to its end cannot
            // be followed by another request either: the connection ends with the answer.
            let requestRead =
                !StreamedRequestHead.asksUpgrade(pending.head)
                && (pending.ended || !StreamedRequestHead.hasBody(pending.head))
            return own(answer, requestRead: requestRead)
        }
    }
}
