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
/// pipelining) waits in a short queue, and while one waits the socket is not read (backpressure: auto-read is off
/// until the queue drains), so a pipelining client holds at most the requests of one read in memory. Unlike NIO's
/// `HTTPServerPipelineHandler`, reading is not paused between an ordinary request and its answer (that cost two
/// `epoll_ctl` calls per exchange). Request bodies are gathered here too (`HTTPMessageGatherer`), up to the
/// inspection limit.
final class TokenExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The CONNECT target this session intercepts.
    private let target: HostPort
    private let tokenEndpoints: TokenEndpointMatcher
    private let creator: CreatorResolver.Resolution
    /// The host is an STS (Entra or not): any token its answers carry is judged, not only the token endpoint's.
    private let hostIsSTS: Bool
    private let shared: ProxyContext
    /// Gathers each request from its parts, body within the inspection limit.
    private var incoming: HTTPMessageGatherer<HTTPRequestHead>
    private var responding = false
    private var waiting = CircularBuffer<NIOHTTPServerRequestFull>()
    /// The client has half-closed: answer what was asked, then close.
    private var inputClosed = false
    /// Pipelined requests held at most (all from one read, as reading stops while one waits); more: disconnected.
    private static let maxWaiting = 16
    private let deadline: RequestDeadlineHandler

    init(target: HostPort, creator: CreatorResolver.Resolution, deadline: RequestDeadlineHandler, shared: ProxyContext) {
        self.target = target
        self.deadline = deadline
        self.tokenEndpoints = TokenEndpointMatcher(host: target.host)
        self.hostIsSTS = STSHosts.entraCloud(forHost: target.host) != nil || STSHosts.isKnownNonEntraSTS(target.host)
        self.incoming = HTTPMessageGatherer(limit: shared.configuration.maxBodyBytes)
        self.creator = creator
        self.shared = shared
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head = part { deadline.headReceived() }
        switch incoming.receive(part) {
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
            if waiting.isEmpty { try? context.channel.syncOptions?.setOption(.autoRead, value: false) }
            waiting.append(request)
            return
        }
        serve(request, context: context)
    }

    private func serve(_ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext) {
        responding = true
        var request = request
        // One canonical target: what is judged is what is audited and what goes upstream.
        switch RequestTarget.canonicalize(request.head.uri, sessionHost: target.host, sessionPort: target.port) {
        case .success(let canonical):
            request.head.uri = canonical.originForm
        case .failure(let problem):
            return refuseRequest("the request target is refused: \(problem)", path: "", context: context)
        }
        if let problem = hostHeaderProblem(request.head.headers) {
            return refuseRequest(problem, path: request.head.uri, context: context)
        }
        if request.head.method == .POST, let endpoint = tokenEndpoints.match(path: request.head.uri) {
            handleTokenExchange(request, endpoint: endpoint, context: context)
        } else {
            passThrough(request, context: context)
        }
    }

    /// The `Host` header must name the session's host (one, with this port or none): an exchange is judged for the
    /// host TLS was terminated for, so a second name is ambiguous.
    private func hostHeaderProblem(_ headers: HTTPHeaders) -> String? {
        var count = 0
        var allName = true
        for (name, value) in headers where name.utf8.equalsIgnoringASCIICase("host") {
            count += 1
            allName = allName && namesSession(value)
        }
        guard count <= 1, allName else { return "the Host header does not name \(target.host), the host of this session" }
        return nil
    }

    /// The session's host as clients write it (its bytes, letter case aside) costs one comparison; any other
    /// spelling (a port, a trailing dot) is parsed and canonicalised.
    private func namesSession(_ value: String) -> Bool {
        let host = target.host.utf8
        if value.utf8.count == host.count,
            zip(value.utf8, host).allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 })
        {
            return true
        }
        guard let named = HostPort(parsing: value, defaultPort: target.port) else { return false }
        return HostName.canonical(named.host) == target.host && named.port == target.port
    }

    // MARK: - Pass-through (discovery, authorize, JWKS…)

    private func passThrough(_ request: NIOHTTPServerRequestFull, context: ChannelHandlerContext) {
        let keepAlive = request.head.isKeepAlive
        forward(request, context: context) { result in
            switch result {
            case .success(let response):
                guard self.hostIsSTS, let endpoint = TokenEndpoint.flow(host: self.target.host, path: request.head.uri)
                else { return self.respond(upstream: response, keepAlive: keepAlive, context: context) }
                self.judgeTokenFlow(request, response: response, endpoint: endpoint, keepAlive: keepAlive, context: context)
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                self.respondError(failure.httpStatus, "upstream_error", failure.detail, keepAlive: false, context: context)
            }
        }
    }

    /// An STS answer outside the token endpoint that hands over tokens (a `form_post` page, a redirect fragment,
    /// JSON) is judged like a token response, or refused with `--token-flows refuse`.
    private func judgeTokenFlow(
        _ request: NIOHTTPServerRequestFull, response: NIOHTTPClientResponseFull, endpoint: TokenEndpoint,
        keepAlive: Bool, context: ChannelHandlerContext
    ) {
        let coding = ResponseCoding(response.head.headers)
        let headers = response.head.headers
        let carriesContent = headers.first(name: "location") != nil
            || (headers.first(name: "content-type")?.lowercased()).map { $0.contains("html") || $0.contains("json") } ?? false
        let carriers: TokenCarriers
        switch coding {
        case .undecodable(let encoding) where carriesContent:
            return judgeOpaqueFlow(
                request, endpoint: endpoint, why: "the answer is encoded as '\(encoding)', which cannot be inspected",
                keepAlive: keepAlive, context: context)
        case .plain, .decodable, .undecodable:
            carriers = TokenCarriers.scan(
                contentType: headers.first(name: "content-type"),
                body: response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView,
                location: headers.first(name: "location"))
        }
        guard carriers.carriesTokens else { return respond(upstream: response, keepAlive: keepAlive, context: context) }
        let record = ExchangeRecord(
            host: target.host, path: request.head.uri, clientID: nil, correlationID: UUID.random())
        withCreator(record: record, keepAlive: keepAlive, context: context) { creator in
            let snapshot = self.shared.policies.current()
            let verdict: ExchangeVerdict
            if self.shared.configuration.tokenFlows == .refuse {
                verdict = ExchangeVerdict(
                    outcome: .block, directions: [.outbound], creatorTenant: creator, signInTenant: nil,
                    reason: "\(self.target.host) handed over tokens outside its token endpoint (a form_post page or a "
                        + "redirect), and this proxy refuses such flows (--token-flows refuse). An administrator can "
                        + "have them judged instead with --token-flows judge.",
                    errorCodes: [500212], setting: "tokenFlows")
            } else {
                verdict = snapshot.decider.judgeResponse(
                    creator: creator, endpoint: endpoint, status: 200,
                    evidence: TokenResponseInspector.inspect(carriers, endpoint: endpoint),
                    expectedSignIn: snapshot.decider.pathTenant(of: endpoint))
            }
            self.conclude(
                verdict, upstream: response, record: record, keepAlive: keepAlive, started: .now(), context: context)
        }
    }

    /// An STS answer that might carry tokens but cannot be read: judged as a token of unknown tenant.
    private func judgeOpaqueFlow(
        _ request: NIOHTTPServerRequestFull, endpoint: TokenEndpoint, why: String, keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let record = ExchangeRecord(host: target.host, path: request.head.uri, clientID: nil, correlationID: UUID.random())
        withCreator(record: record, keepAlive: keepAlive, context: context) { creator in
            let verdict = self.shared.policies.current().decider.judgeUnreadable(creator: creator, endpoint: endpoint, why: why)
            self.conclude(verdict, upstream: nil, record: record, keepAlive: keepAlive, started: .now(), context: context)
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
        if let repeated = summary.repeatedField {
            return refuseRequest(
                "the token request names \(repeated) more than once, so which one the STS uses is ambiguous",
                path: request.head.uri, context: context)
        }
        if summary.truncated {
            return refuseRequest("the token request has too many form fields to inspect", path: request.head.uri, context: context)
        }
        withCreator(record: record, keepAlive: keepAlive, context: context) { creatorTenant in
            self.exchangeToken(
                request, endpoint: endpoint, creator: creatorTenant, summary: summary, record: record, started: started,
                context: context)
        }
    }

    /// Runs `body` with the connection's creator tenant, or answers 407 (audited) when none is known.
    private func withCreator(
        record: ExchangeRecord, keepAlive: Bool, context: ChannelHandlerContext, _ body: (TenantID) -> Void
    ) {
        let reason: String
        switch creator {
        case .known(let tenant, _):
            return body(tenant)
        case .unknown(let unknown):
            reason = "the creator tenant is unknown: \(unknown.reason)"
        case .refused(let refusal):
            reason = "the creator tenant is unknown: \(refusal)"
        }
        audit(record.event(decision: .error, creator: nil, signIn: nil, reason: reason), context: context) {
            self.respondError(
                .proxyAuthenticationRequired, "creator_tenant_unknown",
                "\(reason). Send the maker's token as 'Proxy-Authorization: Bearer <JWT>' on the CONNECT, or "
                    + "configure --default-creator-tenant.",
                extraHeaders: [("proxy-authenticate", "Bearer realm=\"tenantgate\"")], keepAlive: keepAlive,
                correlationID: record.correlationID, context: context)
        }
    }

    private func exchangeToken(
        _ request: NIOHTTPServerRequestFull, endpoint: TokenEndpoint, creator creatorTenant: TenantID,
        summary: TokenRequestSummary, record: ExchangeRecord, started: NIODeadline, context: ChannelHandlerContext
    ) {
        let keepAlive = request.head.isKeepAlive
        let correlationID = record.correlationID
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
                if case .undecodable(let encoding) = ResponseCoding(response.head.headers) {
                    let verdict = snapshot.decider.judgeUnreadable(
                        creator: creatorTenant, endpoint: endpoint,
                        why: "the answer is encoded as '\(encoding)', which cannot be inspected")
                    return self.conclude(
                        verdict, upstream: nil, record: record, keepAlive: keepAlive, started: started, context: context)
                }
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
        shared.recordAudit(event, on: context.eventLoop) { result in
            switch result {
            case .success:
                then()
            case .failure:
                self.respondError(
                    .serviceUnavailable, "audit_unavailable",
                    "the audit log could not be written, so the exchange is refused", keepAlive: false,
                    correlationID: event.correlationID, context: context)
            }
        }
    }

    /// A request refused before it is sent upstream (ambiguous target or Host, repeated decision fields): 400, audited.
    private func refuseRequest(_ reason: String, path: String, context: ChannelHandlerContext) {
        let record = ExchangeRecord(host: target.host, path: path, clientID: nil, correlationID: UUID.random())
        audit(record.event(decision: .error, creator: creator.tenant, signIn: nil, reason: reason), context: context) {
            self.respondError(
                .badRequest, "invalid_request", reason, keepAlive: false, correlationID: record.correlationID,
                context: context)
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
        // Answers are read before they are judged: ask for them unencoded (gzip and deflate are still decoded).
        head.headers.replaceOrAdd(name: "accept-encoding", value: "identity")
        if let restrictions = shared.configuration.tenantRestrictionsV2, restrictions.applies(to: target.host) {
            for name in TenantRestrictionsV2.replacedHeaders { head.headers.remove(name: name) }
            head.headers.add(name: TenantRestrictionsV2.headerName, value: restrictions.headerValue)
        }
        // What is judged is what the client gets: a gzip or deflate answer, decoded (see `ResponseCoding`).
        let limit = shared.configuration.maxBodyBytes
        shared.upstreamPools.value(for: context.eventLoop).exchange(
            head, body: request.body, host: target.host, port: target.port, tls: true
        ) { result in
            then(result.flatMap { ResponseCoding.decoded($0, limit: limit) })
        }
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
        deadline.answered()
        let hadWaiting = !waiting.isEmpty
        if keepAlive, let next = waiting.popFirst() {
            serve(next, context: context)
        } else if !keepAlive || inputClosed {
            waiting.removeAll()
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
        if hadWaiting, waiting.isEmpty { try? context.channel.syncOptions?.setOption(.autoRead, value: true) }
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
