import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TokenInspection

/// An audit line and the answer that follows once it is written.
struct AuditedAnswer: Equatable {
    let event: AuditEvent
    let answer: SessionAnswer
}

/// How a request's decisions become audit lines and answers. The decisions are the decider's; the mode is read
/// only there and in `ExchangeOutcome`.
extension RequestStateMachine {
    /// A request refused before it is sent upstream (ambiguous target or Host, repeated decision fields): 400,
    /// audited, and the connection's last answer.
    func refusal(_ reason: String, path: String, at stamp: EventStamp) -> AuditedAnswer {
        let record = ExchangeRecord(
            host: session.target.host,
            path: path,
            clientID: nil,
            correlationID: stamp.correlationID
        )
        return AuditedAnswer(
            event: record.event(
                decision: .error,
                creator: session.creator.tenant,
                signIn: nil,
                reason: reason,
                at: stamp.date
            ),
            answer: .error(.badRequest, "invalid_request", reason, stamp: stamp, keepAlive: false)
        )
    }

    /// No creator tenant is known for the session: 407, audited.
    func creatorUnknown(_ record: ExchangeRecord, at stamp: EventStamp) -> AuditedAnswer {
        let reason = session.creator.whyUnknown
        let answer = ProxyAnswer.error(
            .proxyAuthenticationRequired,
            "creator_tenant_unknown",
            "\(reason). \(CreatorResolver.Resolution.howToName)",
            correlationID: record.correlationID,
            at: stamp.date,
            extraHeaders: [.init(name: "proxy-authenticate", value: #"Bearer realm="tenantgate""#)]
        )
        return AuditedAnswer(
            event: record.event(decision: .error, creator: nil, signIn: nil, reason: reason, at: stamp.date),
            answer: SessionAnswer(answer, keepAlive: keepAlive)
        )
    }

    /// The token endpoint's answer, judged by the policy in force when it came.
    func tokenResponseConclusion(
        _ response: NIOHTTPClientResponseFull,
        exchange: TokenExchange,
        decider: ExchangeDecider,
        at stamp: EventStamp
    ) -> AuditedAnswer {
        if case .undecodable(let encoding) = ResponseCoding(response.head.headers) {
            let verdict = decider.judgeUnreadable(
                creator: exchange.creator,
                endpoint: exchange.endpoint,
                why: "the answer is encoded as '\(encoding)', which cannot be inspected"
            )
            return conclusion(
                verdict,
                decider: decider,
                upstream: nil,
                record: exchange.record,
                started: exchange.started,
                at: stamp
            )
        }
        // A token handed over in a redirect's `Location` is judged as on the STS's other paths (review 25: the body
        // alone was read here, and such an answer went to the client as one "without a token").
        if let location = response.head.headers.first(name: "location"),
            TokenCarriers.scan(contentTypes: [], body: ByteBuffer().readableBytesView, location: location)
                .carriesTokens,
            let judged = tokenFlowConclusion(
                response,
                path: exchange.record.path,
                flow: exchange.endpoint,
                decider: decider,
                at: stamp
            )
        {
            return judged
        }
        let body = response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView
        let verdict = decider.judgeResponse(
            creator: exchange.creator,
            endpoint: exchange.endpoint,
            status: Int(response.head.status.code),
            evidence: TokenResponseInspector.inspect(body: body, endpoint: exchange.endpoint),
            expectedSignIn: exchange.expectedSignIn,
            clientID: exchange.clientID,
            earlierRefusal: exchange.earlierRefusal
        )
        return conclusion(
            verdict,
            decider: decider,
            upstream: response,
            record: exchange.record,
            started: exchange.started,
            at: stamp
        )
    }

    /// An STS answer outside the token endpoint that hands over tokens (a `form_post` page, a redirect fragment,
    /// JSON) is judged like a token response, or refused with `--token-flows refuse`. Nil: it carries no token.
    func tokenFlowConclusion(
        _ response: NIOHTTPClientResponseFull,
        path: String,
        flow: TokenEndpoint,
        decider: ExchangeDecider,
        at stamp: EventStamp
    ) -> AuditedAnswer? {
        let headers = response.head.headers
        let record = ExchangeRecord(
            host: session.target.host,
            path: path,
            clientID: nil,
            correlationID: stamp.correlationID
        )
        // A non-Entra STS's own token APIs hand tokens over in any type (`TokenCarriers.scan`'s `ownTokenMembers`).
        if case .undecodable(let encoding) = ResponseCoding(headers),
            flow.kind == .nonEntra || Self.mayCarryTokens(headers)
        {
            guard case .known(let creator, _) = session.creator else { return creatorUnknown(record, at: stamp) }
            let verdict = decider.judgeUnreadable(
                creator: creator,
                endpoint: flow,
                why: "the answer is encoded as '\(encoding)', which cannot be inspected"
            )
            return conclusion(
                verdict,
                decider: decider,
                upstream: nil,
                record: record,
                started: stamp.now,
                at: stamp
            )
        }
        let carriers = TokenCarriers.scan(
            contentTypes: headers["content-type"],
            body: response.body.map { $0.readableBytesView } ?? ByteBuffer().readableBytesView,
            location: headers.first(name: "location"),
            ownTokenMembers: flow.kind == .nonEntra
        )
        guard carriers.carriesTokens || carriers.ambiguity != nil else { return nil }
        guard case .known(let creator, _) = session.creator else { return creatorUnknown(record, at: stamp) }
        let verdict = decider.judgeTokenFlow(
            carriers,
            creator: creator,
            endpoint: flow,
            host: session.target.host,
            handling: session.tokenFlows
        )
        return conclusion(
            verdict,
            decider: decider,
            upstream: response,
            record: record,
            started: stamp.now,
            at: stamp
        )
    }

    /// Whether an answer that cannot be read might hand over a token: a redirect, or an HTML, JSON or XML body.
    private static func mayCarryTokens(_ headers: HTTPHeaders) -> Bool {
        if headers.first(name: "location") != nil { return true }
        guard let type = headers.first(name: "content-type")?.lowercased() else { return false }
        return type.contains("html") || type.contains("json") || type.contains("xml")
    }

    /// A verdict becomes its outcome under the mode (the decider's `outcome`), its audit line, then its answer.
    func conclusion(
        _ verdict: ExchangeVerdict,
        decider: ExchangeDecider,
        upstream: NIOHTTPClientResponseFull?,
        record: ExchangeRecord,
        started: NIODeadline,
        at stamp: EventStamp
    ) -> AuditedAnswer {
        let outcome = decider.outcome(verdict, upstreamAnswerReadable: upstream != nil)
        var answer: SessionAnswer
        switch (outcome.answer, upstream) {
        case (.forwardUpstreamAnswer, let upstream?):
            answer = SessionAnswer(forwarding: upstream, keepAlive: keepAlive)
        case (.forbidden, _):
            let body = BlockedResponseBody(
                verdict: verdict,
                correlationID: record.correlationID,
                traceID: stamp.traceID,
                timestamp: stamp.date
            )
            answer = SessionAnswer(.blocked(body), keepAlive: keepAlive)
        case (.badGateway, _), (.forwardUpstreamAnswer, nil):
            answer = .error(
                .badGateway,
                "upstream_error",
                "no upstream response",
                stamp: stamp,
                correlationID: record.correlationID,
                keepAlive: false
            )
        }
        answer.exchangeStarted = started
        return AuditedAnswer(event: outcome.auditEvent(record, at: stamp.date), answer: answer)
    }

    /// A token exchange that got no answer: audited as an error, answered with the proxy's.
    func upstreamFailure(_ failure: UpstreamError, of exchange: TokenExchange, at stamp: EventStamp) -> AuditedAnswer {
        let event = exchange.record.event(
            decision: .error,
            creator: exchange.creator,
            signIn: exchange.expectedSignIn,
            reason: "upstream failure: \(failure.detail)",
            at: stamp.date
        )
        let answer = SessionAnswer.error(
            failure.httpStatus,
            "upstream_error",
            failure.detail,
            stamp: stamp,
            correlationID: exchange.record.correlationID,
            keepAlive: false
        )
        return AuditedAnswer(event: event, answer: answer)
    }

    /// The upstream request: proxy headers gone, the session's Host, answers asked for unencoded (gzip and
    /// deflate are still decoded), Tenant Restrictions v2 injected where it applies.
    func upstreamHead(_ request: NIOHTTPServerRequestFull) -> HTTPRequestHead {
        let target = session.target
        var head = HTTPResponseWriting.upstreamHead(
            from: request.head,
            uri: request.head.uri,
            host: target.port == 443 ? target.host : target.description,
            bodyLength: request.body?.readableBytes ?? 0
        )
        head.headers.replaceOrAdd(name: "accept-encoding", value: "identity")
        // The body goes with the head: the proxy answered `100 Continue` itself (`SessionStateMachine`).
        head.headers.remove(name: "expect")
        if let restrictions = session.tenantRestrictionsV2, restrictions.applies(to: target.host) {
            for name in TenantRestrictionsV2.replacedHeaders { head.headers.remove(name: name) }
            head.headers.add(name: TenantRestrictionsV2.headerName, value: restrictions.headerValue)
        }
        return head
    }
}
