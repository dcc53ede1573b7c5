import Audit
import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TenantPolicy
import TokenInspection

/// Serves the decrypted requests of one intercepted CONNECT session (STYLE 4, step 4).
///
/// Token exchanges are decided before and after the STS answers; everything else passes through untouched. The
/// client gets an answer only after its audit line is written, and a blocked exchange never gets the token.
///
/// Requests are answered one at a time, in order: one that arrives while another is being answered (HTTP
/// pipelining) waits in a short queue. This replaces NIO's `HTTPServerPipelineHandler`, which stops reading the
/// socket between a request and its answer and so costs two `epoll_ctl` calls per exchange. Request bodies are
/// gathered here too (`HTTPMessageGatherer`), up to the inspection limit.
final class TokenExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The CONNECT target this session intercepts.
    private let target: HostPort
    private let tokenEndpoints: TokenEndpointMatcher
    private let creator: Result<TenantID, CreatorUnknown>
    private let shared: ProxyContext
    /// Gathers each request from its parts, body within the inspection limit.
    private var incoming: HTTPMessageGatherer<HTTPRequestHead>
    private var responding = false
    private var waiting = CircularBuffer<NIOHTTPServerRequestFull>()
    /// The client has half-closed: answer what was asked, then close.
    private var inputClosed = false
    /// Pipelined requests held at most; a client that sends more is disconnected.
    private static let maxWaiting = 16

    init(target: HostPort, creator: Result<TenantID, CreatorUnknown>, shared: ProxyContext) {
        self.target = target
        self.tokenEndpoints = TokenEndpointMatcher(host: target.host)
        self.incoming = HTTPMessageGatherer(limit: shared.configuration.maxBodyBytes)
        self.creator = creator
        self.shared = shared
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch incoming.receive(unwrapInboundIn(data)) {
        case .incomplete:
            break
        case .complete(let head, let body):
            received(NIOHTTPServerRequestFull(head: head, body: body), context: context)
        case .tooLarge:
            refuse(status: .payloadTooLarge, "the request body exceeds the inspection limit", context: context)
        }
    }

    private func received(_ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext) {
        guard !responding else {
            guard waiting.count < Self.maxWaiting else { return context.close(promise: nil) }
            waiting.append(request)
            return
        }
        serve(request, context: context)
    }

    private func serve(_ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext) {
        responding = true
        if request.head.method == .POST, let endpoint = tokenEndpoints.match(path: request.head.uri) {
            handleTokenExchange(request, endpoint: endpoint, context: context)
        } else {
            passThrough(request, context: context)
        }
    }

    // MARK: - Pass-through (discovery, authorize, JWKS…)

    private func passThrough(_ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext) {
        let keepAlive = request.head.isKeepAlive
        forward(request, context: context) { result in
            switch result {
            case .success(let response):
                self.respond(upstream: response, keepAlive: keepAlive, context: context)
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                self.respondError(failure.httpStatus, "upstream_error", failure.detail, keepAlive: false, context: context)
            }
        }
    }

    // MARK: - Token exchanges

    private func handleTokenExchange(
        _ request: NIOHTTPServerRequestFull, endpoint: TokenEndpoint, context: ChannelHandlerContext
    ) {
        let started = NIODeadline.now()
        let correlationID = UUID.random()
        let keepAlive = request.head.isKeepAlive
        let summary = TokenRequestSummary(formBody: request.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView)
        let record = ExchangeRecord(
            host: target.host, path: request.head.uri, clientID: summary.clientID, correlationID: correlationID)

        let creatorTenant: TenantID
        switch creator {
        case .success(let tenant):
            creatorTenant = tenant
        case .failure(let unknown):
            let reason = "the creator tenant is unknown: \(unknown.reason)"
            audit(record.event(decision: .error, creator: nil, signIn: nil, reason: reason), context: context) {
                self.respondError(
                    .proxyAuthenticationRequired, "creator_tenant_unknown",
                    "\(reason). Send the maker's token as 'Proxy-Authorization: Bearer <JWT>' on the CONNECT, or "
                        + "configure --default-creator-tenant.",
                    extraHeaders: [("proxy-authenticate", "Bearer realm=\"tenantgate\"")], keepAlive: keepAlive,
                    correlationID: correlationID, context: context)
            }
            return
        }

        let snapshot = shared.policies.current()
        let mode = shared.configuration.mode
        var expectedSignIn: TenantID?
        var wouldBlockBeforeSending: ExchangeVerdict?
        switch snapshot.decider.preCheck(creator: creatorTenant, endpoint: endpoint) {
        case .refuse(let verdict):
            guard mode == .reportOnly else {
                // Blocked from the path alone: nothing is sent upstream.
                conclude(verdict, upstream: nil, record: record, keepAlive: keepAlive, started: started, context: context)
                return
            }
            wouldBlockBeforeSending = verdict
            expectedSignIn = verdict.signInTenant
        case .forward(let expected):
            expectedSignIn = expected
        }

        forward(request, context: context) { result in
            switch result {
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                let event = record.event(
                    decision: .error, creator: creatorTenant, signIn: expectedSignIn,
                    reason: "upstream failure: \(failure.detail)")
                self.audit(event, context: context) {
                    self.respondError(
                        failure.httpStatus, "upstream_error", failure.detail, keepAlive: false,
                        correlationID: correlationID, context: context)
                }
            case .success(let response):
                let body = response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView
                let evidence = TokenResponseInspector.inspect(body: body, endpoint: endpoint)
                var verdict = snapshot.decider.judgeResponse(
                    creator: creatorTenant, endpoint: endpoint, status: Int(response.head.status.code),
                    evidence: evidence, expectedSignIn: expectedSignIn, clientID: summary.clientID)
                if verdict.outcome == .allow, let earlier = wouldBlockBeforeSending, !evidence.isSuccess {
                    verdict = earlier
                }
                self.conclude(
                    verdict, upstream: response, record: record, keepAlive: keepAlive, started: started,
                    context: context)
            }
        }
    }

    /// Turns a verdict into an audit line and then an answer, as the mode says.
    private func conclude(
        _ verdict: ExchangeVerdict, upstream: NIOHTTPClientResponseFull?, record: ExchangeRecord, keepAlive: Bool,
        started: NIODeadline, context: ChannelHandlerContext
    ) {
        let mode = shared.configuration.mode
        let decision: AuditDecision
        switch verdict.outcome {
        case .allow: decision = .allowed
        case .unenforced: decision = .unenforced
        case .block: decision = mode == .enforce ? .blocked : .wouldBlock
        }
        var event = record.event(
            decision: decision, creator: verdict.creatorTenant, signIn: verdict.signInTenant, reason: verdict.reason)
        event.directions = verdict.directions
        event.rule = verdict.rule
        event.homeTenant = verdict.homeTenant
        event.setting = verdict.setting
        event.errorCode = decision == .blocked || decision == .wouldBlock ? verdict.errorCodes.first : nil
        if decision == .unenforced { shared.metrics.recordUnenforced(host: record.host) }

        audit(event, context: context) {
            self.shared.metrics.exchangeLatency.recordNanoseconds(
                (NIODeadline.now() - started).nanoseconds)
            if decision == .blocked {
                let body = BlockedResponseBody(
                    verdict: verdict, correlationID: record.correlationID, traceID: .random(), timestamp: Date())
                self.finish(
                    HTTPResponseWriting.json(
                        status: .forbidden, body.json(), keepAlive: keepAlive, context: context,
                        wrap: self.wrapOutboundOut), keepAlive: keepAlive, context: context)
            } else if let upstream {
                self.respond(upstream: upstream, keepAlive: keepAlive, context: context)
            } else {
                self.respondError(
                    .badGateway, "upstream_error", "no upstream response", keepAlive: false,
                    correlationID: record.correlationID, context: context)
            }
        }
    }

    /// Writes the audit line (grouped with the loop's others), then runs `then`. When the line cannot be written,
    /// the client gets a 503 instead of the answer: no exchange goes unaudited.
    private func audit(_ event: AuditEvent, context: ChannelHandlerContext, then: @escaping () -> Void) {
        let queued = NIODeadline.now()
        shared.metrics.record(
            decision: event.decision.rawValue, blockedDirections: event.directions.map(\.rawValue),
            setting: event.setting)
        shared.auditBatches.value(for: context.eventLoop).record(event) { result in
            self.shared.metrics.auditWriteLatency.recordNanoseconds((NIODeadline.now() - queued).nanoseconds)
            switch result {
            case .success:
                then()
            case .failure(let error):
                self.shared.logger.error("audit write failed; refusing the exchange", metadata: ["error": "\(error)"])
                self.respondError(
                    .serviceUnavailable, "audit_unavailable",
                    "the audit log could not be written, so the exchange is refused", keepAlive: false,
                    correlationID: event.correlationID, context: context)
            }
        }
    }

    // MARK: - Upstream

    private func forward(
        _ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext,
        then: @escaping UpstreamConnectionPool.Completion
    ) {
        let hostHeader = target.port == 443 ? target.host : target.description
        var head = HTTPResponseWriting.upstreamHead(
            from: request.head, uri: request.head.uri, host: hostHeader, bodyLength: request.body?.readableBytes ?? 0)
        if let restrictions = shared.configuration.tenantRestrictionsV2, restrictions.applies(to: target.host) {
            for name in TenantRestrictionsV2.replacedHeaders { head.headers.remove(name: name) }
            head.headers.add(name: TenantRestrictionsV2.headerName, value: restrictions.headerValue)
        }
        shared.upstreamPools.value(for: context.eventLoop).exchange(
            head, body: request.body, host: target.host, port: target.port, tls: true, completion: then)
    }

    // MARK: - Answers

    private func respond(upstream: NIOHTTPClientResponseFull, keepAlive: Bool, context: ChannelHandlerContext) {
        finish(
            HTTPResponseWriting.write(
                status: upstream.head.status, headers: HTTPResponseWriting.forwardable(upstream.head.headers),
                body: upstream.body, keepAlive: keepAlive, context: context, wrap: wrapOutboundOut),
            keepAlive: keepAlive, context: context)
    }

    private func respondError(
        _ status: HTTPResponseStatus, _ error: String, _ description: String, extraHeaders: [(String, String)] = [],
        keepAlive: Bool, correlationID: UUID = .random(), context: ChannelHandlerContext
    ) {
        let body = ProxyErrorBody(error: error, description: description, correlationID: correlationID)
        finish(
            HTTPResponseWriting.json(
                status: status, body.json(), extraHeaders: extraHeaders, keepAlive: keepAlive, context: context,
                wrap: wrapOutboundOut),
            keepAlive: keepAlive, context: context)
    }

    private func finish(_ written: EventLoopFuture<Void>, keepAlive: Bool, context: ChannelHandlerContext) {
        responding = false
        if keepAlive, let next = waiting.popFirst() {
            serve(next, context: context)
        } else if !keepAlive || inputClosed {
            waiting.removeAll()
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    // MARK: - Connection events

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent where !responding:
            context.close(promise: nil)
        case ChannelEvent.inputClosed:
            inputClosed = true
            if !responding { context.close(promise: nil) }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Only a malformed request gets an answer; TLS and socket failures just end the session.
        guard error is HTTPParserError else { return context.close(promise: nil) }
        let (status, message) = ClientProtocolError.classify(error)
        refuse(status: status, message, context: context)
    }

    /// An answer when nothing else is being answered; otherwise the session just ends (it cannot jump the queue).
    private func refuse(status: HTTPResponseStatus, _ message: String, context: ChannelHandlerContext) {
        guard !responding else { return context.close(promise: nil) }
        responding = true
        respondError(status, "invalid_request", message, keepAlive: false, context: context)
    }
}

@available(*, unavailable)
extension TokenExchangeHandler: Sendable {}

/// The parts of an exchange's audit line known before the decision.
struct ExchangeRecord {
    let host: String
    let path: String
    let clientID: String?
    let correlationID: UUID

    func event(decision: AuditDecision, creator: TenantID?, signIn: TenantID?, reason: String) -> AuditEvent {
        AuditEvent(
            time: Date(), decision: decision, directions: [], creatorTenant: creator, signInTenant: signIn,
            host: host, path: path, clientID: clientID, reason: reason, rule: nil, correlationID: correlationID)
    }
}
