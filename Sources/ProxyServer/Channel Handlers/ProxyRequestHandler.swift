import Audit
import Foundation
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// The first handler of every client connection: admits the client, reads a request head and either accepts a
/// CONNECT (then a tunnel or interception follows), or forwards a plain `http://` request (STYLE 4, steps 1 to 4).
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A CONNECT being accepted: its end and its creator arrive in either order.
    private struct PendingConnect {
        let target: HostPort
        let plan: InterceptionPlan
        var creator: CreatorResolver.Resolution?
        /// Set at the CONNECT's end, when the HTTP decoder is removed: raw bytes the client sent after it, kept
        /// (bounded) for the next stage.
        var pending: [NIOAny]?
        var pendingReads = 0
    }

    /// Allowed transitions: idle → connecting → accepted (→ removed); idle → forwarding → awaitingUpstream → idle;
    /// any → failed.
    private enum State {
        case idle
        case connecting(PendingConnect)
        /// Accepted and being handed over; raw bytes keep arriving here until the next handler is in place.
        case accepted(pending: [NIOAny], pendingReads: Int)
        case forwarding(HTTPRequestHead, body: BoundedBody)
        /// A plain request is upstream. Pipelining is not supported: a request that arrives now is not read, and
        /// the connection closes after the current answer so the client sends it again.
        case awaitingUpstream(pipelined: Bool)
        case failed
    }

    private static let maxPendingReads = 16
    private let shared: ProxyContext
    private let deadline: RequestDeadlineHandler
    private var state = State.idle

    /// - Parameter deadline: the request-head deadline in front of this connection's decoder.
    init(shared: ProxyContext, deadline: RequestDeadlineHandler) {
        self.shared = shared
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .connecting(var connect) where connect.pending != nil:
            // Bytes after the CONNECT's end (a TLS ClientHello or tunnel data). NIOAny does not expose its size, so
            // the bound is on reads (each at most one socket read).
            guard connect.pendingReads < Self.maxPendingReads else { return fail(context: context) }
            connect.pending?.append(data)
            connect.pendingReads += 1
            state = .connecting(connect)
            return
        case .accepted(var pending, let reads):
            guard reads < Self.maxPendingReads else { return fail(context: context) }
            pending.append(data)
            state = .accepted(pending: pending, pendingReads: reads + 1)
            return
        case .failed:
            return
        case .awaitingUpstream:
            state = .awaitingUpstream(pipelined: true)
            return
        case .idle, .connecting, .forwarding:
            break
        }
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)):
            deadline.headReceived()
            guard admitsClient(context: context) else { return }
            if head.method == .CONNECT {
                receivedConnect(head, context: context)
            } else {
                receivedPlainRequest(head, context: context)
            }
        case (.forwarding(let head, var body), .body(let chunk)):
            guard body.append(chunk) else {
                refuse(.payloadTooLarge, "the request body exceeds the limit", context: context)
                return
            }
            state = .forwarding(head, body: body)
        case (.forwarding(let head, let body), .end):
            forwardPlain(head, body: body.buffer, context: context)
        case (.connecting(var connect), .end):
            // Drop HTTP parsing: removing the decoder forwards any bytes it already holds to us, as raw buffers.
            connect.pending = []
            state = .connecting(connect)
            let sync = context.pipeline.syncOperations
            if let decoder = try? sync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                sync.removeHandler(context: decoder, promise: nil)
            }
            proceedIfReady(context: context)
        case (.connecting, .body):
            break
        default:
            refuse(.badRequest, "unexpected request part", context: context)
        }
    }

    // MARK: - Who may use the proxy

    /// SPEC 4.1 `--allow-client`: judged on the connection's own address (IPv4-mapped IPv6 as IPv4).
    private func admitsClient(context: ChannelHandlerContext) -> Bool {
        let address = context.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        if let address, shared.configuration.allowedClients.permits(address) { return true }
        let named = address?.description ?? "an unknown address"
        refuseForbidden(
            ConnectionRefusal(
                host: "", creator: nil, setting: "clientPolicy",
                reason: "the client address \(named) may not use this proxy (--allow-client opens a range)"),
            context: context)
        return false
    }

    // MARK: - CONNECT

    private func receivedConnect(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let requested = HostPort(parsing: head.uri), requested.port > 0,
            let host = HostName.canonical(requested.host)
        else {
            refuse(.badRequest, "CONNECT needs host:port, got '\(head.uri.prefix(200))'", context: context)
            return
        }
        let target = HostPort(host: host, port: requested.port)
        let plan = InterceptionPlan.plan(for: target, configuration: shared.configuration)
        if case .refuse(let status, let reason) = plan {
            refuse(HTTPResponseStatus(statusCode: status), reason, context: context)
            return
        }
        state = .connecting(PendingConnect(target: target, plan: plan))
        shared.creators.resolve(
            proxyAuthorization: head.headers.first(name: "proxy-authorization"),
            clientAddress: context.channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) },
            eventLoop: context.eventLoop
        ).assumeIsolated().whenSuccess { resolution in
            guard case .connecting(var connect) = self.state else { return }
            connect.creator = resolution
            self.state = .connecting(connect)
            self.proceedIfReady(context: context)
        }
    }

    /// Once the CONNECT has ended and its creator is resolved: refuse a maker token that does not verify, judge a
    /// tunnel's destination, then accept.
    private func proceedIfReady(context: ChannelHandlerContext) {
        guard case .connecting(let connect) = state, let creator = connect.creator, let pending = connect.pending
        else { return }
        state = .accepted(pending: pending, pendingReads: connect.pendingReads)
        if case .refused(let reason) = creator {
            refuseMakerToken(reason, target: connect.target, context: context)
            return
        }
        guard connect.plan == .tunnel else {
            // Intercepted: the upstream connection is judged when the pool opens it.
            return accept(connect.target, plan: connect.plan, creator: creator, tunnelAddress: nil, context: context)
        }
        // A tunnel's destination is judged before it is accepted, so a refusal is still an HTTP answer.
        shared.dialer.resolve(connect.target, on: context.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let address):
                self.accept(connect.target, plan: connect.plan, creator: creator, tunnelAddress: address, context: context)
            case .failure(let error):
                let failure = UpstreamError.from(error)
                guard failure.code == .destinationRefused else {
                    // A name that does not resolve may still be an intercepted host's alias in the SNI.
                    guard connect.target.port == 443 else {
                        return self.refuse(failure.httpStatus, failure.detail, context: context)
                    }
                    return self.accept(connect.target, plan: connect.plan, creator: creator, tunnelAddress: nil, context: context)
                }
                self.refuseForbidden(
                    ConnectionRefusal(
                        host: connect.target.host, creator: creator.tenant, setting: "destinationPolicy",
                        reason: failure.detail),
                    context: context)
            }
        }
    }

    /// 200, then: on port 443 the ClientHello decides (`ClientHelloPeekHandler`); elsewhere the CONNECT's name does.
    private func accept(
        _ target: HostPort, plan: InterceptionPlan, creator: CreatorResolver.Resolution, tunnelAddress: SocketAddress?,
        context: ChannelHandlerContext
    ) {
        guard context.channel.isActive else { return }
        sendEstablished(context: context)
        let pending: () -> [NIOAny] = { [unowned self] in
            guard case .accepted(let pending, _) = self.state else { return [] }
            self.state = .failed  // nothing more reaches this handler once it is removed
            return pending
        }
        if target.port == 443 {
            let peek = ClientHelloPeekHandler(
                connect: AcceptedConnect(
                    target: target, namesInterceptedHost: plan == .intercept, creator: creator,
                    tunnelAddress: tunnelAddress),
                shared: shared)
            do {
                let sync = context.pipeline.syncOperations
                try sync.addHandler(peek, position: .after(self))
                for data in pending() { context.fireChannelRead(data) }
                context.fireChannelReadComplete()
                sync.removeHandler(context: context, promise: nil)
            } catch {
                context.close(promise: nil)
            }
        } else if plan == .intercept {
            SessionHandover.intercept(
                host: target, creator: creator, pending: pending, shared: shared, replacing: self, context: context)
        } else if let tunnelAddress {
            SessionHandover.tunnel(
                to: tunnelAddress, shared: shared, pending: pending, replacing: self, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func refuseMakerToken(_ reason: String, target: HostPort, context: ChannelHandlerContext) {
        state = .failed
        let refusal = ConnectionRefusal(
            host: target.host, creator: nil, setting: "creatorToken", reason: reason, decision: .error)
        SessionHandover.refuse(refusal, shared: shared, context: context) {
            let body = ProxyErrorBody(
                error: "creator_token_invalid",
                description: "\(reason). Send a maker token that verifies against the configured keys "
                    + "(--creator-jwks, --creator-jwks-url) for an accepted audience (--creator-audience).",
                correlationID: refusal.correlationID)
            HTTPResponseWriting.json(
                status: .proxyAuthenticationRequired, body.json(),
                extraHeaders: [("proxy-authenticate", #"Bearer realm="tenantgate", error="invalid_token""#)],
                keepAlive: false, context: context, wrap: self.wrapOutboundOut
            ).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// 200, then no more HTTP here: the encoder and the request-head deadline go (tunnels and intercepted
    /// sessions have their own).
    private func sendEstablished(context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let sync = context.pipeline.syncOperations
        if let encoder = try? sync.context(handlerType: HTTPResponseEncoder.self) {
            sync.removeHandler(context: encoder, promise: nil)
        }
        sync.removeHandler(deadline, promise: nil)
    }

    // MARK: - Plain http:// forwarding

    private func receivedPlainRequest(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.uri.utf8.count > 7, head.uri.prefix(7).lowercased() == "http://" else {
            refuse(.badRequest, "this is a proxy: send CONNECT host:443 or an absolute http:// URL", context: context)
            return
        }
        state = .forwarding(head, body: BoundedBody(limit: shared.configuration.maxBodyBytes))
    }

    private func forwardPlain(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        guard let url = URLComponents(string: head.uri), let rawHost = url.host, url.user == nil, url.password == nil,
            let host = HostName.canonical(rawHost)
        else {
            refuse(.badRequest, "cannot parse the absolute URL", context: context)
            return
        }
        // Token requests in clear would carry secrets past the inspection that TLS interception gives: refused.
        guard !InterceptionPlan.intercepts(host: host, configuration: shared.configuration) else {
            refuseForbidden(
                ConnectionRefusal(
                    host: host, creator: nil, setting: "plainHTTP",
                    reason: "\(host) is a security token service: plain http to it is refused; use https (CONNECT)"),
                context: context)
            return
        }
        let port = url.port ?? 80
        let pool = shared.upstreamPools.value(for: context.eventLoop)
        var path = url.percentEncodedPath.isEmpty ? "/" : url.percentEncodedPath
        if let query = url.percentEncodedQuery { path += "?\(query)" }
        let upstreamHead = HTTPResponseWriting.upstreamHead(
            from: head, uri: path, host: port == 80 ? host : "\(host):\(port)", bodyLength: body?.readableBytes ?? 0)
        state = .awaitingUpstream(pipelined: false)
        pool.exchange(upstreamHead, body: body, host: host, port: port, tls: false) { result in
            switch result {
            case .success(let response):
                let pipelined: Bool
                if case .awaitingUpstream(true) = self.state { pipelined = true } else { pipelined = false }
                let keepAlive = head.isKeepAlive && !pipelined
                self.state = keepAlive ? .idle : .failed
                self.deadline.answered()
                let written = HTTPResponseWriting.write(
                    status: response.head.status, headers: HTTPResponseWriting.forwardable(response.head.headers),
                    body: response.body, keepAlive: keepAlive, context: context, wrap: self.wrapOutboundOut)
                if !keepAlive { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            case .failure(let failure) where failure.code == .destinationRefused:
                self.refuseForbidden(
                    ConnectionRefusal(host: host, creator: nil, setting: "destinationPolicy", reason: failure.detail),
                    context: context)
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                self.writeErrorAndClose(failure.httpStatus, failure.detail, context: context)
            }
        }
    }

    // MARK: - Errors

    private func fail(context: ChannelHandlerContext) {
        state = .failed
        context.close(promise: nil)
    }

    private func refuse(_ status: HTTPResponseStatus, _ reason: String, context: ChannelHandlerContext) {
        state = .failed
        writeErrorAndClose(status, reason, context: context)
    }

    /// A refusal by the client, destination or plain-http policy: audited, then 403 with the same correlation ID.
    private func refuseForbidden(_ refusal: ConnectionRefusal, context: ChannelHandlerContext) {
        state = .failed
        SessionHandover.refuse(refusal, shared: shared, context: context) {
            self.writeErrorAndClose(.forbidden, refusal.reason, correlationID: refusal.correlationID, context: context)
        }
    }

    private func writeErrorAndClose(
        _ status: HTTPResponseStatus, _ reason: String, correlationID: UUID = .random(), context: ChannelHandlerContext
    ) {
        let body = ProxyErrorBody(error: status == .forbidden ? "forbidden" : "proxy_error", description: reason, correlationID: correlationID)
        HTTPResponseWriting.json(status: status, body.json(), keepAlive: false, context: context, wrap: wrapOutboundOut)
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle, .forwarding:
            let (status, message) = ClientProtocolError.classify(error)
            refuse(status, message, context: context)
        case .connecting(let connect) where connect.pending == nil:
            let (status, message) = ClientProtocolError.classify(error)
            refuse(status, message, context: context)
        case .connecting, .accepted, .awaitingUpstream, .failed:
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            switch state {
            case .idle, .connecting, .forwarding: context.close(promise: nil)
            case .accepted, .awaitingUpstream, .failed: break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
