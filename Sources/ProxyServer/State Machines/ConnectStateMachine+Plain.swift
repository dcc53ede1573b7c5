import ExchangePolicy
import NIOCore
import NIOHTTP1

/// The plain `http://` side of `ConnectStateMachine`: a request in absolute form, its body held whole, sent on and
/// answered.
extension ConnectStateMachine {
    mutating func plainRequestReceived(_ head: HTTPRequestHead) -> Action {
        guard head.uri.utf8.count > 7, head.uri.prefix(7).lowercased() == "http://" else {
            return fail(.badRequest, "this is a proxy: send CONNECT host:443 or an absolute http:// URL")
        }
        let body = BoundedBody(limit: configuration.maxBodyBytes)
        if let refusal = body.refusal(of: head.headers) { return fail(refusal.status, refusal.reason) }
        state = .forwarding(head, body: body)
        return .none
    }

    mutating func forwardPlain(_ head: HTTPRequestHead, body: ByteBuffer?) -> Action {
        switch PlainRequestPlan.plan(head, bodyLength: body?.readableBytes ?? 0, configuration: configuration) {
        case .forward(let upstreamHead, let host, let port):
            state = .awaitingUpstream(keepAlive: StreamedRequestHead.keepsConnection(head), pipelined: false)
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
