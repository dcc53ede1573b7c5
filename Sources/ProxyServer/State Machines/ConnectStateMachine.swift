import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TokenInspection

/// The first request of a client connection, as a value (STYLE 4 steps 1 to 4): either
/// accepts a CONNECT (its creator found and, for a tunnel, its destination judged; then a tunnel or interception
/// follows) or forwards a plain `http://` request.
///
/// Events are facts (`headReceived`, `creatorResolved`, `destinationResolved`, `parsingStopped`…); each returns
/// the one `Action` the handler carries out. A CONNECT's end and its creator arrive in either order.
struct ConnectStateMachine {
    /// Allowed transitions: idle → connecting | forwarding | failed; connecting → resolvingDestination | accepted
    /// | failed; resolvingDestination → accepted | failed; forwarding → verifyingMaker | awaitingUpstream | failed;
    /// verifyingMaker → awaitingUpstream | failed; awaitingUpstream → idle | failed; any → closed, which absorbs
    /// every later event.
    enum State {
        case idle
        /// A CONNECT's head was read; its end and its creator are awaited.
        case connecting(Connect)
        /// A tunnel's destination is being resolved and judged; raw bytes may arrive meanwhile (held).
        case resolvingDestination(Connect, creator: CreatorResolver.Resolution)
        /// Accepted and being handed over.
        case accepted
        /// A plain request's body is being read.
        case forwarding(HTTPRequestHead, body: BoundedBody, clientAddress: IPAddress)
        /// A whole plain request waits for its maker token to verify, as a CONNECT's does (SPEC 4.1). A request
        /// pipelined behind it, or the client's FIN, ends the connection after the answer, as upstream.
        case verifyingMaker(HTTPRequestHead, body: ByteBuffer?, keepAlive: Bool, pipelined: Bool)
        /// A plain request is upstream. Pipelining is not supported: a request that arrives now is not read, and
        /// the connection closes after the current answer so that the client sends it again.
        case awaitingUpstream(keepAlive: Bool, pipelined: Bool)
        /// Refused or failed: the last answer is being written.
        case failed
        case closed
    }

    let configuration: Configuration
    /// Changed only by the machine's own methods (here and in `+Plain`).
    var state = State.idle

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    // MARK: - HTTP parts

    mutating func headReceived(_ head: HTTPRequestHead, clientAddress: IPAddress) -> Action {
        switch state {
        case .idle:
            break
        case .awaitingUpstream(let keepAlive, _):
            state = .awaitingUpstream(keepAlive: keepAlive, pipelined: true)
            return .none
        case .verifyingMaker(let request, let body, let keepAlive, _):
            state = .verifyingMaker(request, body: body, keepAlive: keepAlive, pipelined: true)
            return .none
        case .connecting, .resolvingDestination, .accepted, .forwarding:
            return fail(.badRequest, "unexpected request part")
        case .failed, .closed:
            return .none
        }
        // `--allow-client` was judged when the connection was accepted (`ClientAdmission`).
        return head.method == .CONNECT
            ? connectReceived(head, from: clientAddress) : plainRequestReceived(head, from: clientAddress)
    }

    mutating func bodyReceived(_ chunk: ByteBuffer) -> Action {
        switch state {
        case .forwarding(let head, var body, let clientAddress):
            // Let go of the state's copy first, so the body has one owner and grows in place: else every part copied
            // the whole body read so far (a million one-byte chunks, half a terabyte copied).
            state = .closed
            guard body.append(chunk) else { return fail(.payloadTooLarge, "the request body exceeds the limit") }
            state = .forwarding(head, body: body, clientAddress: clientAddress)
            return .none
        case .connecting, .verifyingMaker, .awaitingUpstream, .failed, .closed:
            return .none
        case .idle, .resolvingDestination, .accepted:
            return fail(.badRequest, "unexpected request part")
        }
    }

    mutating func endReceived() -> Action {
        switch state {
        case .forwarding(let head, let body, let clientAddress):
            return plainRequestEnded(head, body: body.buffer, clientAddress: clientAddress)
        case .connecting(var connect) where !connect.ended:
            connect.ended = true
            state = .connecting(connect)
            return .stopParsing
        case .verifyingMaker, .awaitingUpstream, .failed, .closed:
            return .none
        case .idle, .connecting, .resolvingDestination, .accepted:
            return fail(.badRequest, "unexpected request part")
        }
    }

    /// The request could not be parsed: answered while HTTP is still spoken, else the connection just closes.
    mutating func malformedRequest(status: HTTPResponseStatus, _ message: String) -> Action {
        switch state {
        case .idle, .forwarding:
            return fail(status, message)
        case .connecting(let connect) where !connect.ended:
            return fail(status, message)
        case .awaitingUpstream(let keepAlive, _):
            // The plain request before it is answered first, then the connection ends: both were lost (review 35).
            state = .awaitingUpstream(keepAlive: keepAlive, pipelined: true)
            return .none
        case .verifyingMaker(let request, let body, let keepAlive, _):
            state = .verifyingMaker(request, body: body, keepAlive: keepAlive, pipelined: true)
            return .none
        case .connecting, .resolvingDestination, .accepted:
            state = .failed
            return .close
        case .failed, .closed:
            return .none
        }
    }

    // MARK: - CONNECT

    private mutating func connectReceived(_ head: HTTPRequestHead, from clientAddress: IPAddress) -> Action {
        guard let requested = HostPort(parsing: head.uri), requested.port > 0,
            let host = HostName.canonical(requested.host)
        else {
            return fail(.badRequest, "CONNECT needs host:port, got '\(head.uri.prefix(200))'")
        }
        let target = HostPort(host: host, port: requested.port)
        let plan = InterceptionPlan.plan(for: target, rules: configuration.interception)
        if case .refuse(let status, let reason) = plan {
            return fail(HTTPResponseStatus(statusCode: status), reason)
        }
        state = .connecting(Connect(target: target, plan: plan))
        return .resolveCreator(
            proxyAuthorization: head.headers.first(name: "proxy-authorization"),
            clientAddress: clientAddress
        )
    }

    mutating func creatorResolved(_ creator: CreatorResolver.Resolution) -> Action {
        if case .verifyingMaker(let head, let body, let keepAlive, let pipelined) = state {
            return plainMakerVerified(creator, head, body: body, keepAlive: keepAlive, pipelined: pipelined)
        }
        guard case .connecting(var connect) = state, connect.creator == nil else { return .none }
        connect.creator = creator
        state = .connecting(connect)
        return proceed()
    }

    /// HTTP parsing has stopped: the decoder has left, and what it still held is with the raw bytes.
    mutating func parsingStopped() -> Action {
        guard case .connecting(var connect) = state, connect.ended else { return .none }
        connect.parsingStopped = true
        state = .connecting(connect)
        return proceed()
    }

    /// Once the CONNECT has ended and its creator is known: refuse a maker token that does not verify, judge a
    /// tunnel's destination, or accept an interception (its upstream is judged when the pool connects).
    private mutating func proceed() -> Action {
        guard case .connecting(let connect) = state, connect.parsingStopped, let creator = connect.creator else {
            return .none
        }
        if case .refused(let reason) = creator {
            state = .failed
            return .refuseMakerToken(
                ConnectionRefusal(
                    host: connect.target.host,
                    creator: nil,
                    setting: .creatorToken,
                    reason: reason,
                    decision: .error
                )
            )
        }
        switch connect.plan {
        case .tunnel:
            // Judged before it is accepted, so that a refusal is still an HTTP answer.
            state = .resolvingDestination(connect, creator: creator)
            return .resolveDestination(connect.target)
        case .intercept, .refuse:
            return accept(connect, creator: creator, tunnelRoute: nil)
        }
    }

    mutating func destinationResolved(_ result: Result<UpstreamRoute, UpstreamError>) -> Action {
        guard case .resolvingDestination(let connect, let creator) = state else { return .none }
        switch result {
        case .success(let route):
            return accept(connect, creator: creator, tunnelRoute: route)
        case .failure(let failure) where failure.code == .destinationRefused:
            state = .failed
            return .refuseForbidden(
                ConnectionRefusal(
                    host: connect.target.host,
                    creator: creator.tenant,
                    setting: .destinationPolicy,
                    reason: failure.detail
                )
            )
        case .failure(let failure):
            // A name that does not resolve may still be an intercepted host's alias in the SNI.
            guard connect.target.port == 443 else { return fail(failure.httpStatus, failure.detail) }
            return accept(connect, creator: creator, tunnelRoute: nil)
        }
    }

    private mutating func accept(
        _ connect: Connect,
        creator: CreatorResolver.Resolution,
        tunnelRoute: UpstreamRoute?
    ) -> Action {
        state = .accepted
        return .accept(
            AcceptedConnect(
                target: connect.target,
                namesInterceptedHost: connect.plan == .intercept,
                creator: creator,
                tunnelRoute: tunnelRoute,
                clientFinished: connect.clientFinished
            )
        )
    }

    // MARK: - Connection events

    /// Nothing was read for the idle time: closed unless an answer is owed (`IdlePolicy`); a written one is not.
    mutating func idleTimeoutFired() -> Action {
        let owesAnswer: Bool
        switch state {
        case .idle, .forwarding, .failed: owesAnswer = false
        // The client has not finished its CONNECT, or the proxy is verifying its maker token.
        case .connecting(let connect): owesAnswer = connect.ended
        // Handed over, verifying a maker token, or waiting for DNS or upstream: their own deadlines apply.
        case .resolvingDestination, .accepted, .verifyingMaker, .awaitingUpstream: owesAnswer = true
        case .closed: return .none
        }
        guard IdlePolicy.closes(owesAnswer: owesAnswer) else { return .none }
        return closeNow()
    }

    /// The client's FIN: closed when no request can be whole now (not held to the idle timeout); a whole CONNECT's
    /// tunnel passes it on; a plain request upstream is answered, then the connection ends.
    mutating func inputClosed() -> Action {
        switch state {
        case .connecting(var connect) where connect.ended:
            connect.clientFinished = true
            state = .connecting(connect)
        case .resolvingDestination(var connect, let creator):
            connect.clientFinished = true
            state = .resolvingDestination(connect, creator: creator)
        case .idle, .connecting, .forwarding: return closeNow()
        case .verifyingMaker(let head, let body, _, let pipelined):
            state = .verifyingMaker(head, body: body, keepAlive: false, pipelined: pipelined)
        case .awaitingUpstream(_, let pipelined): state = .awaitingUpstream(keepAlive: false, pipelined: pipelined)
        case .accepted, .failed, .closed: break  // handed over: the session's handlers have their own rule
        }
        return .none
    }

    /// The connection closed, or was handed over to the next handlers: later events change nothing.
    mutating func channelClosed() {
        state = .closed
    }

    mutating func fail(_ status: HTTPResponseStatus, _ reason: String) -> Action {
        state = .failed
        return .refuse(status, reason)
    }

    private mutating func closeNow() -> Action {
        state = .failed
        return .close
    }
}
