import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// One request of an intercepted session, from the whole request to its answer, as a value (async-http-client's
/// `HTTPRequestStateMachine`, nested in `SessionStateMachine` as theirs is in `HTTP1ConnectionStateMachine`).
///
/// Token exchanges are judged before and after the STS answers; everything else passes through untouched, except
/// STS answers that hand over tokens outside the token endpoint. Every decision is audited before it is answered,
/// and a blocked exchange never gets the token. The decisions themselves are `ExchangeDecider`'s.
struct RequestStateMachine {
    enum Action: Equatable {
        /// Send this request to the session's host; then report `upstreamResponded` or `upstreamFailed`.
        case forward(HTTPRequestHead, body: ByteBuffer?)
        /// Write this audit line; then report `auditWritten` or `auditFailed`.
        case writeAudit(AuditEvent)
        /// Write this answer; it ends the request.
        case answer(SessionAnswer)
        /// Count a judged resource request, then do `then`.
        indirect case count(ResourceCount, then: Action)
    }

    /// Allowed transitions: initial (only inside `start`) → awaitingUpstream | awaitingAudit |
    /// auditingBeforeForward; auditingBeforeForward → awaitingUpstream | answering; awaitingUpstream → awaitingAudit |
    /// answering; awaitingAudit → answering. Events that do not fit the state change nothing.
    private enum State {
        case initial
        case awaitingUpstream(Purpose)
        /// The decision's audit line is being written; its answer follows.
        case awaitingAudit(SessionAnswer)
        /// An allowed resource request's audit line is being written; the request goes upstream once it is.
        case auditingBeforeForward(HTTPRequestHead, body: ByteBuffer?)
        case answering
    }

    /// Why a request went upstream, which says what its answer needs.
    private enum Purpose {
        /// Passed through; an STS's answer that hands over tokens is judged (`flow`: the STS endpoint, outside its
        /// token endpoint, whose answer may still carry tokens).
        case passThrough(path: String, flow: TokenEndpoint?)
        case tokenExchange(TokenExchange)
    }

    /// A token request sent upstream, with what was concluded before it left.
    struct TokenExchange {
        let endpoint: TokenEndpoint
        let creator: TenantID
        let clientID: String?
        let record: ExchangeRecord
        /// The path's tenant, which the issued token must agree with.
        let expectedSignIn: TenantID?
        /// A pre-check refusal let through in report-only mode: it stands unless the STS issued a token.
        let earlierRefusal: ExchangeVerdict?
        let started: NIODeadline
    }

    let session: InterceptedSession
    /// Whether the connection may carry another request after this one (`StreamedRequestHead.keepsConnection`).
    let keepAlive: Bool
    private var state = State.initial
    /// A resource request's first-sight verdict and the decider that judged it: kept there once its line is written
    /// (`ExchangeDecider.keep`), never when it is not.
    var verdictToKeep: (decider: ExchangeDecider, judgement: ResourceJudgement)?

    private init(session: InterceptedSession, head: HTTPRequestHead) {
        self.session = session
        self.keepAlive = StreamedRequestHead.keepsConnection(head)
    }

    /// A machine for `request`, and what it does first.
    /// - Parameter currentDecider: the policy in force, taken only if the request is judged.
    static func start(
        _ request: NIOHTTPServerRequestFull,
        session: InterceptedSession,
        currentDecider: () -> ExchangeDecider,
        at stamp: EventStamp
    ) -> (machine: RequestStateMachine, action: Action) {
        var machine = RequestStateMachine(session: session, head: request.head)
        let action = machine.begin(request, currentDecider: currentDecider, at: stamp)
        return (machine, action)
    }

    /// Whether the request is upstream, its answer still to judge.
    var awaitsUpstream: Bool {
        if case .awaitingUpstream = state { true } else { false }
    }

    /// Whether the answer is written and only `answerSent` is awaited.
    var isAnswering: Bool {
        if case .answering = state { true } else { false }
    }

    // MARK: - The request

    private mutating func begin(
        _ request: NIOHTTPServerRequestFull,
        currentDecider: () -> ExchangeDecider,
        at stamp: EventStamp
    ) -> Action {
        var request = request
        // One canonical target: what is judged is what is audited and what goes upstream.
        switch RequestTarget.canonicalize(
            request.head.uri,
            sessionHost: session.target.host,
            sessionPort: session.target.port
        ) {
        case .success(let canonical):
            request.head.uri = canonical.originForm
        case .failure(let problem):
            return refuse(refusal("the request target is refused: \(problem)", path: "", at: stamp), request.head)
        }
        if let problem = SessionHostHeader.problem(request.head.headers["host"], session: session.target) {
            return refuse(refusal(problem, path: request.head.uri, at: stamp), request.head)
        }
        if session.judgesEveryRequest {
            return startResourceRequest(request, decider: currentDecider(), at: stamp)
        }
        if request.head.method == .POST, let endpoint = session.tokenEndpoints.match(path: request.head.uri) {
            return startTokenExchange(request, endpoint: endpoint, decider: currentDecider(), at: stamp)
        }
        let flow =
            session.hostIsSTS
            ? TokenEndpoint.flow(host: session.target.host, path: request.head.uri) : nil
        state = .awaitingUpstream(.passThrough(path: request.head.uri, flow: flow))
        return .forward(upstreamHead(request), body: request.body)
    }

    /// Refused before it is judged; on a resource host still a counted `resource_access` line (`refusedUnjudged`).
    private mutating func refuse(_ refused: AuditedAnswer, _ head: HTTPRequestHead) -> Action {
        let (line, count) = refusedUnjudged(refused, method: head.method)
        let action = audit(line)
        return count.map { .count($0, then: action) } ?? action
    }

    private mutating func startTokenExchange(
        _ request: NIOHTTPServerRequestFull,
        endpoint: TokenEndpoint,
        decider: ExchangeDecider,
        at stamp: EventStamp
    ) -> Action {
        let summary: TokenRequestSummary
        switch readTokenRequest(request, at: stamp) {
        case .read(let read): summary = read
        case .refused(let refused): return audit(refused)
        }
        let record = ExchangeRecord(
            host: session.target.host,
            path: request.head.uri,
            clientID: summary.clientID,
            correlationID: stamp.correlationID
        )
        guard case .known(let creator, _) = session.creator else {
            return audit(creatorUnknown(record, at: stamp))
        }
        switch decider.plan(creator: creator, endpoint: endpoint) {
        case .refuseNow(let verdict):
            return audit(
                conclusion(verdict, decider: decider, upstream: nil, record: record, started: stamp.now, at: stamp)
            )
        case .forward(let expectedSignIn, let earlierRefusal):
            let exchange = TokenExchange(
                endpoint: endpoint,
                creator: creator,
                clientID: summary.clientID,
                record: record,
                expectedSignIn: expectedSignIn,
                earlierRefusal: earlierRefusal,
                started: stamp.now
            )
            state = .awaitingUpstream(.tokenExchange(exchange))
            return .forward(upstreamHead(request), body: request.body)
        }
    }

    /// A request on a resource host: refused (audited, 403 or 400), or sent upstream, after its audit line when it
    /// is the first of its token under this policy version.
    private mutating func startResourceRequest(
        _ request: NIOHTTPServerRequestFull,
        decider: ExchangeDecider,
        at stamp: EventStamp
    ) -> Action {
        let head = upstreamHead(request)
        switch resourcePlan(request, decider: decider, at: stamp) {
        case .refuse(let audited):
            return .count(
                ResourceCount(hostPattern: resourceHostPattern, decision: audited.event.decision),
                then: audit(audited)
            )
        case .forward(let decision, nil):
            state = .awaitingUpstream(.passThrough(path: request.head.uri, flow: nil))
            return .count(
                ResourceCount(hostPattern: resourceHostPattern, decision: decision),
                then: .forward(head, body: request.body)
            )
        case .forward(let decision, let event?):
            state = .auditingBeforeForward(head, body: request.body)
            return .count(ResourceCount(hostPattern: resourceHostPattern, decision: decision), then: .writeAudit(event))
        }
    }

    // MARK: - Upstream

    /// The STS answered; `response` has a gzip or deflate body already decoded. Nil: no answer was awaited.
    /// - Parameter currentDecider: the policy in force now, which judges the answer: a change acknowledged while the
    ///   request was upstream applies to what the STS issued (review 19: a token of a tenant blocked 2.4 s earlier
    ///   reached the client, audited under the deleted rule).
    mutating func upstreamResponded(
        _ response: NIOHTTPClientResponseFull,
        currentDecider: () -> ExchangeDecider,
        at stamp: EventStamp
    ) -> Action? {
        guard case .awaitingUpstream(let purpose) = state else { return nil }
        switch purpose {
        case .passThrough(let path, let flow):
            guard let flow,
                let judged = tokenFlowConclusion(
                    response,
                    path: path,
                    flow: flow,
                    decider: currentDecider(),
                    at: stamp
                )
            else {
                return answer(SessionAnswer(forwarding: response, keepAlive: keepAlive))
            }
            return audit(judged)
        case .tokenExchange(let exchange):
            return audit(tokenResponseConclusion(response, exchange: exchange, decider: currentDecider(), at: stamp))
        }
    }

    /// The request got no answer. A token exchange's failure is audited; a passed-through request's is not.
    mutating func upstreamFailed(_ failure: UpstreamError, at stamp: EventStamp) -> Action? {
        guard case .awaitingUpstream(let purpose) = state else { return nil }
        switch purpose {
        case .passThrough:
            return answer(
                .error(failure.httpStatus, "upstream_error", failure.detail, stamp: stamp, keepAlive: false)
            )
        case .tokenExchange(let exchange):
            return audit(upstreamFailure(failure, of: exchange, at: stamp))
        }
    }

    // MARK: - Audit

    /// The audit line goes first; its answer follows once it is written (SPEC 4).
    private mutating func audit(_ audited: AuditedAnswer) -> Action {
        state = .awaitingAudit(audited.answer)
        return .writeAudit(audited.event)
    }

    mutating func auditWritten() -> Action? {
        if let kept = verdictToKeep {
            kept.decider.keep(kept.judgement)
            verdictToKeep = nil
        }
        switch state {
        case .awaitingAudit(let answer):
            return self.answer(answer)
        case .auditingBeforeForward(let head, let body):
            state = .awaitingUpstream(.passThrough(path: head.uri, flow: nil))
            return .forward(head, body: body)
        case .initial, .awaitingUpstream, .answering:
            return nil
        }
    }

    /// No exchange goes unaudited: when its line cannot be written, the client gets a 503 instead of the answer.
    mutating func auditFailed(correlationID: UUID, at stamp: EventStamp) -> Action? {
        switch state {
        case .awaitingAudit, .auditingBeforeForward: break
        case .initial, .awaitingUpstream, .answering: return nil
        }
        let description = "the audit log could not be written, so the exchange is refused"
        return answer(
            .error(
                .serviceUnavailable,
                "audit_unavailable",
                description,
                stamp: stamp,
                correlationID: correlationID,
                keepAlive: false
            )
        )
    }

    private mutating func answer(_ answer: SessionAnswer) -> Action {
        state = .answering
        return .answer(answer)
    }
}
