import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy

/// The plain `http://` side of `ConnectStateMachine`: a request in absolute form, its body held whole, sent on and
/// answered.
extension ConnectStateMachine {
    mutating func plainRequestReceived(_ head: HTTPRequestHead, from clientAddress: IPAddress) -> Action {
        guard head.uri.utf8.count > 7, head.uri.prefix(7).lowercased() == "http://" else {
            return fail(.badRequest, "this is a proxy: send CONNECT host:443 or an absolute http:// URL")
        }
        let body = BoundedBody(limit: configuration.maxBodyBytes)
        if let refusal = body.refusal(of: head.headers) { return fail(refusal.status, refusal.reason) }
        state = .forwarding(head, body: body, clientAddress: clientAddress)
        return .none
    }

    /// A whole plain request: a maker token it sends must verify first (SPEC 4.1: any token sent and not verified
    /// is answered 407, with no fallback; review 53 F3 found plain requests passed on with one unread).
    mutating func plainRequestEnded(_ head: HTTPRequestHead, body: ByteBuffer?, clientAddress: IPAddress) -> Action {
        guard let proxyAuthorization = head.headers.first(name: "proxy-authorization") else {
            return forwardPlain(head, body: body)
        }
        let keepAlive = StreamedRequestHead.keepsConnection(head)
        state = .verifyingMaker(head, body: body, keepAlive: keepAlive, pipelined: false)
        return .resolveCreator(proxyAuthorization: proxyAuthorization, clientAddress: clientAddress)
    }

    mutating func plainMakerVerified(
        _ creator: CreatorResolver.Resolution,
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        keepAlive: Bool,
        pipelined: Bool
    ) -> Action {
        guard case .refused(let reason) = creator else {
            return forwardPlain(head, body: body, keepAlive: keepAlive, pipelined: pipelined)
        }
        state = .failed
        return .refuseMakerToken(
            ConnectionRefusal(
                host: PlainRequestPlan.host(of: head.uri),
                creator: nil,
                setting: .creatorToken,
                reason: reason,
                decision: .error
            )
        )
    }

    mutating func forwardPlain(
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        keepAlive: Bool? = nil,
        pipelined: Bool = false
    ) -> Action {
        switch PlainRequestPlan.plan(head, bodyLength: body?.readableBytes ?? 0, configuration: configuration) {
        case .forward(let upstreamHead, let host, let port):
            state = .awaitingUpstream(
                keepAlive: keepAlive ?? StreamedRequestHead.keepsConnection(head),
                pipelined: pipelined
            )
            return .forwardPlain(upstreamHead, body: body, host: host, port: port)
        case .refuse(let refusal):
            state = .failed
            return .refuseForbidden(refusal)
        case .malformed(let reason):
            return fail(.badRequest, reason)
        }
    }

    mutating func plainResponded(_ response: NIOHTTPClientResponseFull) -> Action {
        guard case .awaitingUpstream(let keepAlive, let pipelined) = state else { return .none }
        let staysOpen = keepAlive && !pipelined
        state = staysOpen ? .idle : .failed
        return .answerPlain(response, keepAlive: staysOpen)
    }

    mutating func plainFailed(_ failure: UpstreamError, host: String) -> Action {
        guard case .awaitingUpstream = state else { return .none }
        guard failure.code == .destinationRefused else { return fail(failure.httpStatus, failure.detail) }
        state = .failed
        return .refuseForbidden(
            ConnectionRefusal(host: host, creator: nil, setting: .destinationPolicy, reason: failure.detail)
        )
    }
}
