import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import Plumbing
import TenantPolicy
import TokenInspection

/// One intercepted session's requests, from their parts to their answers, as a value (STYLE 4; async-http-client's
/// `HTTP1ConnectionStateMachine`, postgres-nio's `ConnectionStateMachine`).
///
/// Events are facts the handler saw (`requestPartReceived`, `upstreamResponded`, `auditWritten`, `answerSent`,
/// `idleTimeoutFired`, `inputClosed`, `channelClosed`); each returns the one `Action` the handler carries out.
/// Token exchanges are judged before and after the STS answers; everything else passes through untouched, except
/// STS answers that hand over tokens outside the token endpoint. Every decision is audited before it is answered,
/// and a blocked exchange never gets the token.
///
/// Requests are answered one at a time, in order: one that arrives while another is answered (pipelining) waits,
/// and the first to wait stops reading until the queue drains, so a pipelining client holds at most one read's
/// requests in memory.
struct TokenExchangeStateMachine {
    /// What the machine knows of its session, fixed for its life.
    struct Session {
        /// The intercepted host (canonical) and port.
        let target: HostPort
        let creator: CreatorResolver.Resolution
        let mode: EnforcementMode
        let tokenFlows: TokenFlowHandling
        let maxBodyBytes: Int
        let tenantRestrictionsV2: TenantRestrictionsV2?
        fileprivate let tokenEndpoints: TokenEndpointMatcher
        /// The host is an STS (Entra or not): any token its answers carry is judged, not only the token endpoint's.
        fileprivate let hostIsSTS: Bool

        init(
            target: HostPort,
            creator: CreatorResolver.Resolution,
            mode: EnforcementMode,
            tokenFlows: TokenFlowHandling,
            maxBodyBytes: Int,
            tenantRestrictionsV2: TenantRestrictionsV2?
        ) {
            self.target = target
            self.creator = creator
            self.mode = mode
            self.tokenFlows = tokenFlows
            self.maxBodyBytes = maxBodyBytes
            self.tenantRestrictionsV2 = tenantRestrictionsV2
            self.tokenEndpoints = TokenEndpointMatcher(host: target.host)
            self.hostIsSTS =
                STSHosts.entraCloud(forHost: target.host) != nil || STSHosts.isKnownNonEntraSTS(target.host)
        }
    }

    enum Action: Equatable {
        case none
        /// Send this request to the session's host; then report `upstreamResponded` or `upstreamFailed`.
        case forward(HTTPRequestHead, body: ByteBuffer?)
        /// Write this audit line; then report `auditWritten` or `auditFailed`.
        case writeAudit(AuditEvent)
        /// Write this answer; then report `answerSent`, unless it closes the connection.
        case answer(Answer)
        /// A request waits behind another: stop reading until the queue drains.
        case stopReading
        /// The queue drained: read again, then do `then`.
        indirect case resumeReading(then: Action)
        case close
    }

    /// A whole response for the client.
    struct Answer: Equatable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer?
        /// What the `Connection` header says; false also closes the connection once written.
        var keepAlive: Bool
        /// Close once written, whatever `keepAlive` says (the client half-closed).
        var closesConnection: Bool
        /// When the token exchange this answers began, for its latency; nil for other answers.
        var exchangeStarted: NIODeadline?
    }

    /// Pipelined requests held at most (all from one read, as reading stops while one waits); more: disconnected.
    static let maxWaiting = 16

    /// Allowed transitions: idle → exchanging | closing | closed; exchanging → idle | exchanging (the next
    /// request) | closing | closed; closing → closed. `closed` absorbs every later event.
    private enum State {
        /// No request is being answered; reading.
        case idle
        /// One request is being answered.
        case exchanging(Exchange)
        /// The connection's last answer is being written.
        case closing
        case closed
    }

    private struct Exchange {
        let keepAlive: Bool
        var step: Step
    }

    /// Allowed transitions: awaitingUpstream → awaitingAudit | answering; awaitingAudit → answering.
    private enum Step {
        case awaitingUpstream(Purpose)
        /// The decision's audit line is being written; `answer` follows it.
        case awaitingAudit(answer: Answer)
        /// The answer is handed to the handler; `answerSent` ends the exchange.
        case answering(Answer)
    }

    /// Why a request went upstream, which says what its answer needs.
    private enum Purpose {
        /// Passed through; an STS's answer that hands over tokens (`flow`) is judged.
        case passThrough(path: String, flow: TokenEndpoint?)
        case tokenExchange(TokenExchange)
    }

    /// A token request sent upstream, with what was concluded before it left.
    private struct TokenExchange {
        let endpoint: TokenEndpoint
        let creator: TenantID
        let clientID: String?
        let record: ExchangeRecord
        /// The path's tenant, which the issued token must agree with.
        let expectedSignIn: TenantID?
        /// A pre-check refusal let through in report-only mode: it stands unless the STS issued a token.
        let earlierRefusal: ExchangeVerdict?
        /// The policy that decided before the request left decides on its answer too.
        let decider: ExchangeDecider
        let started: NIODeadline
    }

    private let session: Session
    private let currentDecider: () -> ExchangeDecider
    private var state = State.idle
    private var incoming: HTTPMessageGatherer<HTTPRequestHead>
    private var waiting = CircularBuffer<NIOHTTPServerRequestFull>()
    /// The client half-closed: what it asked is answered, then the connection closes.
    private var clientHalfClosed = false

    /// - Parameter currentDecider: the policy in force, taken once per exchange.
    init(session: Session, currentDecider: @escaping () -> ExchangeDecider) {
        self.session = session
        self.currentDecider = currentDecider
        self.incoming = HTTPMessageGatherer(limit: session.maxBodyBytes)
    }

    // MARK: - Events from the client

    mutating func requestPartReceived(_ part: HTTPServerRequestPart) -> Action {
        switch state {
        case .closing, .closed:
            return .none
        case .idle, .exchanging:
            break
        }
        switch incoming.receive(part) {
        case .incomplete:
            return .none
        case .tooLarge:
            return malformedRequest(status: .payloadTooLarge, "the request body exceeds the inspection limit")
        case .complete(let head, let body):
            return received(NIOHTTPServerRequestFull(head: head, body: body))
        }
    }

    /// The request could not be parsed: an answer when nothing else is being answered; otherwise the session
    /// just ends (an answer cannot jump the queue).
    mutating func malformedRequest(status: HTTPResponseStatus, _ message: String) -> Action {
        switch state {
        case .idle:
            return answer(Self.errorAnswer(status, "invalid_request", message), keepAlive: false)
        case .exchanging:
            state = .closing
            return .close
        case .closing, .closed:
            return .none
        }
    }

    mutating func inputClosed() -> Action {
        clientHalfClosed = true
        switch state {
        case .idle:
            state = .closing
            return .close
        case .exchanging, .closing, .closed:
            return .none
        }
    }

    /// Nothing was read for the idle time: closed unless an answer is owed (`IdlePolicy`).
    mutating func idleTimeoutFired() -> Action {
        let owesAnswer: Bool
        switch state {
        case .idle: owesAnswer = false
        case .exchanging: owesAnswer = true
        case .closing, .closed: return .none
        }
        guard IdlePolicy.closes(owesAnswer: owesAnswer) else { return .none }
        state = .closing
        return .close
    }

    mutating func channelClosed() {
        state = .closed
        waiting.removeAll()
    }

    private mutating func received(_ request: NIOHTTPServerRequestFull) -> Action {
        switch state {
        case .idle:
            return serve(request)
        case .exchanging:
            guard waiting.count < Self.maxWaiting else {
                state = .closing
                return .close
            }
            waiting.append(request)
            return waiting.count == 1 ? .stopReading : .none
        case .closing, .closed:
            return .none
        }
    }

    // MARK: - One request

    private mutating func serve(_ request: NIOHTTPServerRequestFull) -> Action {
        var request = request
        let keepAlive = request.head.isKeepAlive
        // One canonical target: what is judged is what is audited and what goes upstream.
        switch RequestTarget.canonicalize(
            request.head.uri,
            sessionHost: session.target.host,
            sessionPort: session.target.port
        )
        {
        case .success(let canonical):
            request.head.uri = canonical.originForm
        case .failure(let problem):
            return refuseRequest("the request target is refused: \(problem)", path: "", keepAlive: keepAlive)
        }
        let hosts = request.head.headers.lazy.filter { $0.name.utf8.equalsIgnoringASCIICase("host") }.map(\.value)
        if let problem = SessionHostHeader.problem(hosts, session: session.target) {
            return refuseRequest(problem, path: request.head.uri, keepAlive: keepAlive)
        }
        if request.head.method == .POST, let endpoint = session.tokenEndpoints.match(path: request.head.uri) {
            return startTokenExchange(request, endpoint: endpoint)
        }
        let flow = session.hostIsSTS ? TokenEndpoint.flow(host: session.target.host, path: request.head.uri) : nil
        state = .exchanging(
            Exchange(keepAlive: keepAlive, step: .awaitingUpstream(.passThrough(path: request.head.uri, flow: flow)))
        )
        return forward(request)
    }

    /// A request refused before it is sent upstream (ambiguous target or Host, repeated decision fields): 400,
    /// audited, and the connection's last answer.
    private mutating func refuseRequest(_ reason: String, path: String, keepAlive: Bool) -> Action {
        let record = ExchangeRecord(host: session.target.host, path: path, clientID: nil)
        let answer = Self.errorAnswer(.badRequest, "invalid_request", reason, correlationID: record.correlationID)
        return audit(
            record.event(decision: .error, creator: session.creator.tenant, signIn: nil, reason: reason),
            then: answer,
            keepAlive: false
        )
    }

    private mutating func startTokenExchange(_ request: NIOHTTPServerRequestFull, endpoint: TokenEndpoint) -> Action {
        let started = NIODeadline.now()
        let keepAlive = request.head.isKeepAlive
        let summary = TokenRequestSummary(
            formBody: request.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView
        )
        if let repeated = summary.repeatedField {
            return refuseRequest(
                "the token request names \(repeated) more than once, so which one the STS uses is ambiguous",
                path: request.head.uri,
                keepAlive: keepAlive
            )
        }
        if summary.truncated {
            return refuseRequest(
                "the token request has too many form fields to inspect",
                path: request.head.uri,
                keepAlive: keepAlive
            )
        }
        let record = ExchangeRecord(host: session.target.host, path: request.head.uri, clientID: summary.clientID)
        guard case .known(let creator, _) = session.creator else {
            return creatorUnknown(record: record, keepAlive: keepAlive)
        }
        let decider = currentDecider()
        let expectedSignIn: TenantID?
        let earlierRefusal: ExchangeVerdict?
        switch decider.plan(creator: creator, endpoint: endpoint, mode: session.mode) {
        case .refuseNow(let verdict):
            return conclude(verdict, upstream: nil, record: record, keepAlive: keepAlive, started: started)
        case .forward(let expected, let refusal):
            (expectedSignIn, earlierRefusal) = (expected, refusal)
        }
        let exchange = TokenExchange(
            endpoint: endpoint,
            creator: creator,
            clientID: summary.clientID,
            record: record,
            expectedSignIn: expectedSignIn,
            earlierRefusal: earlierRefusal,
            decider: decider,
            started: started
        )
        state = .exchanging(Exchange(keepAlive: keepAlive, step: .awaitingUpstream(.tokenExchange(exchange))))
        return forward(request)
    }

    /// The upstream request: proxy headers gone, the session's Host, answers asked for unencoded (gzip and
    /// deflate are still decoded), Tenant Restrictions v2 injected where it applies.
    private func forward(_ request: NIOHTTPServerRequestFull) -> Action {
        let target = session.target
        var head = HTTPResponseWriting.upstreamHead(
            from: request.head,
            uri: request.head.uri,
            host: target.port == 443 ? target.host : target.description,
            bodyLength: request.body?.readableBytes ?? 0
        )
        head.headers.replaceOrAdd(name: "accept-encoding", value: "identity")
        if let restrictions = session.tenantRestrictionsV2, restrictions.applies(to: target.host) {
            for name in TenantRestrictionsV2.replacedHeaders { head.headers.remove(name: name) }
            head.headers.add(name: TenantRestrictionsV2.headerName, value: restrictions.headerValue)
        }
        return .forward(head, body: request.body)
    }

    // MARK: - Events from upstream

    /// The STS answered; `response` has a gzip or deflate body already decoded.
    mutating func upstreamResponded(_ response: NIOHTTPClientResponseFull) -> Action {
        guard case .exchanging(let exchange) = state, case .awaitingUpstream(let purpose) = exchange.step else {
            return .none
        }
        switch purpose {
        case .passThrough(let path, let flow):
            guard let flow else { return answer(Self.forwarded(response), keepAlive: exchange.keepAlive) }
            return judgeTokenFlow(response, path: path, endpoint: flow, keepAlive: exchange.keepAlive)
        case .tokenExchange(let token):
            if case .undecodable(let encoding) = ResponseCoding(response.head.headers) {
                let verdict = token.decider.judgeUnreadable(
                    creator: token.creator,
                    endpoint: token.endpoint,
                    why: "the answer is encoded as '\(encoding)', which cannot be inspected"
                )
                return conclude(
                    verdict,
                    upstream: nil,
                    record: token.record,
                    keepAlive: exchange.keepAlive,
                    started: token.started
                )
            }
            let body = response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView
            let verdict = token.decider.judgeResponse(
                creator: token.creator,
                endpoint: token.endpoint,
                status: Int(response.head.status.code),
                evidence: TokenResponseInspector.inspect(body: body, endpoint: token.endpoint),
                expectedSignIn: token.expectedSignIn,
                clientID: token.clientID,
                earlierRefusal: token.earlierRefusal
            )
            return conclude(
                verdict,
                upstream: response,
                record: token.record,
                keepAlive: exchange.keepAlive,
                started: token.started
            )
        }
    }

    /// The request got no answer. A token exchange's failure is audited; a passed-through request's is not.
    mutating func upstreamFailed(_ failure: UpstreamError) -> Action {
        guard case .exchanging(let exchange) = state, case .awaitingUpstream(let purpose) = exchange.step else {
            return .none
        }
        switch purpose {
        case .passThrough:
            return answer(Self.errorAnswer(failure.httpStatus, "upstream_error", failure.detail), keepAlive: false)
        case .tokenExchange(let token):
            let event = token.record.event(
                decision: .error,
                creator: token.creator,
                signIn: token.expectedSignIn,
                reason: "upstream failure: \(failure.detail)"
            )
            let answer = Self.errorAnswer(
                failure.httpStatus,
                "upstream_error",
                failure.detail,
                correlationID: token.record.correlationID
            )
            return audit(event, then: answer, keepAlive: false)
        }
    }

    /// An STS answer outside the token endpoint that hands over tokens (a `form_post` page, a redirect fragment,
    /// JSON) is judged like a token response, or refused with `--token-flows refuse`.
    private mutating func judgeTokenFlow(
        _ response: NIOHTTPClientResponseFull,
        path: String,
        endpoint: TokenEndpoint,
        keepAlive: Bool
    ) -> Action {
        let headers = response.head.headers
        let record = ExchangeRecord(host: session.target.host, path: path, clientID: nil)
        if case .undecodable(let encoding) = ResponseCoding(headers), Self.mayCarryTokens(headers) {
            guard case .known(let creator, _) = session.creator else {
                return creatorUnknown(record: record, keepAlive: keepAlive)
            }
            let verdict = currentDecider().judgeUnreadable(
                creator: creator,
                endpoint: endpoint,
                why: "the answer is encoded as '\(encoding)', which cannot be inspected"
            )
            return conclude(verdict, upstream: nil, record: record, keepAlive: keepAlive, started: .now())
        }
        let carriers = TokenCarriers.scan(
            contentType: headers.first(name: "content-type"),
            body: response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView,
            location: headers.first(name: "location")
        )
        guard carriers.carriesTokens else { return answer(Self.forwarded(response), keepAlive: keepAlive) }
        guard case .known(let creator, _) = session.creator else {
            return creatorUnknown(record: record, keepAlive: keepAlive)
        }
        let verdict = currentDecider().judgeTokenFlow(
            carriers,
            creator: creator,
            endpoint: endpoint,
            host: session.target.host,
            handling: session.tokenFlows
        )
        return conclude(verdict, upstream: response, record: record, keepAlive: keepAlive, started: .now())
    }

    /// Whether an answer that cannot be read might hand over a token: a redirect, or an HTML or JSON body.
    private static func mayCarryTokens(_ headers: HTTPHeaders) -> Bool {
        if headers.first(name: "location") != nil { return true }
        guard let type = headers.first(name: "content-type")?.lowercased() else { return false }
        return type.contains("html") || type.contains("json")
    }

    // MARK: - Decisions, audit, answers

    /// No creator tenant is known for the session: 407, audited.
    private mutating func creatorUnknown(record: ExchangeRecord, keepAlive: Bool) -> Action {
        let reason = session.creator.whyUnknown
        let answer = Answer(
            .error(
                .proxyAuthenticationRequired,
                "creator_tenant_unknown",
                "\(reason). \(CreatorResolver.Resolution.howToName)",
                correlationID: record.correlationID,
                extraHeaders: [.init(name: "proxy-authenticate", value: #"Bearer realm="tenantgate""#)]
            )
        )
        return audit(
            record.event(decision: .error, creator: nil, signIn: nil, reason: reason),
            then: answer,
            keepAlive: keepAlive
        )
    }

    /// A verdict becomes its outcome under the mode (`ExchangeOutcome`), its audit line, then its answer.
    private mutating func conclude(
        _ verdict: ExchangeVerdict,
        upstream: NIOHTTPClientResponseFull?,
        record: ExchangeRecord,
        keepAlive: Bool,
        started: NIODeadline
    ) -> Action {
        let outcome = ExchangeOutcome(verdict, mode: session.mode, upstreamAnswerReadable: upstream != nil)
        var answer: Answer
        var answerKeepAlive = keepAlive
        switch (outcome.answer, upstream) {
        case (.forwardUpstreamAnswer, let upstream?):
            answer = Self.forwarded(upstream)
        case (.forbidden, _):
            let body = BlockedResponseBody(
                verdict: verdict,
                correlationID: record.correlationID,
                traceID: .random(),
                timestamp: Date()
            )
            answer = Answer(.blocked(body))
        case (.badGateway, _), (.forwardUpstreamAnswer, nil):
            answer = Self.errorAnswer(
                .badGateway,
                "upstream_error",
                "no upstream response",
                correlationID: record.correlationID
            )
            answerKeepAlive = false
        }
        answer.exchangeStarted = started
        return audit(outcome.auditEvent(record), then: answer, keepAlive: answerKeepAlive)
    }

    /// The audit line goes first; `answer` follows once it is written (SPEC 4).
    private mutating func audit(_ event: AuditEvent, then answer: Answer, keepAlive: Bool) -> Action {
        var answer = answer
        answer.keepAlive = keepAlive
        state = .exchanging(Exchange(keepAlive: keepAlive, step: .awaitingAudit(answer: answer)))
        return .writeAudit(event)
    }

    mutating func auditWritten() -> Action {
        guard case .exchanging(let exchange) = state, case .awaitingAudit(let answer) = exchange.step else {
            return .none
        }
        return self.answer(answer, keepAlive: answer.keepAlive)
    }

    /// No exchange goes unaudited: when its line cannot be written, the client gets a 503 instead of the answer.
    mutating func auditFailed(correlationID: UUID) -> Action {
        guard case .exchanging(let exchange) = state, case .awaitingAudit = exchange.step else { return .none }
        return answer(
            Self.errorAnswer(
                .serviceUnavailable,
                "audit_unavailable",
                "the audit log could not be written, so the exchange is refused",
                correlationID: correlationID
            ),
            keepAlive: false
        )
    }

    private mutating func answer(_ answer: Answer, keepAlive: Bool) -> Action {
        var answer = answer
        answer.keepAlive = keepAlive
        answer.closesConnection = !keepAlive || (clientHalfClosed && waiting.isEmpty)
        if answer.closesConnection {
            state = .closing
            waiting.removeAll()
        } else {
            state = .exchanging(Exchange(keepAlive: keepAlive, step: .answering(answer)))
        }
        return .answer(answer)
    }

    /// The answer is written to the channel: the next waiting request is served, or reading goes on.
    mutating func answerSent() -> Action {
        guard case .exchanging(let exchange) = state, case .answering = exchange.step else { return .none }
        state = .idle
        guard let next = waiting.popFirst() else { return .none }
        let action = serve(next)
        return waiting.isEmpty ? .resumeReading(then: action) : action
    }

    // MARK: - Answer shapes

    private static func forwarded(_ response: NIOHTTPClientResponseFull) -> Answer {
        Answer(
            status: response.head.status,
            headers: HTTPResponseWriting.forwardable(response.head.headers),
            body: response.body,
            keepAlive: true,
            closesConnection: false,
            exchangeStarted: nil
        )
    }

    private static func errorAnswer(
        _ status: HTTPResponseStatus,
        _ error: String,
        _ description: String,
        correlationID: UUID = .random()
    ) -> Answer {
        Answer(.error(status, error, description, correlationID: correlationID))
    }
}

extension TokenExchangeStateMachine.Answer {
    /// An answer of the proxy's own, kept open for the next request unless told otherwise.
    init(_ own: ProxyAnswer) {
        self.init(
            status: own.status,
            headers: own.headers,
            body: ByteBuffer(bytes: own.body),
            keepAlive: true,
            closesConnection: false,
            exchangeStarted: nil
        )
    }
}
