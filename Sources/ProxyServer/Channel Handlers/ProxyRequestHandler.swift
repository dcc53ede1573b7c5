import Foundation
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TenantPolicy

/// The first handler of every client connection: reads a request head and either opens a tunnel, starts
/// interception, or forwards a plain `http://` request (STYLE 4, steps 1 to 4).
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Allowed transitions: idle → awaitingConnectEnd → upgrading (→ removed);
    /// idle → forwarding → awaitingUpstream → idle; any → failed.
    private enum State {
        case idle
        case awaitingConnectEnd(HostPort, InterceptionPlan, Result<TenantID, CreatorUnknown>)
        /// The HTTP decoder is gone; raw bytes that arrive are kept (bounded) for the next stage.
        case upgrading(pending: [NIOAny], pendingReads: Int)
        case forwarding(HTTPRequestHead, body: BoundedBody)
        /// A plain request is upstream. Pipelining is not supported: a request that arrives now is not read, and
        /// the connection closes after the current answer so the client sends it again.
        case awaitingUpstream(pipelined: Bool)
        case failed
    }

    private static let maxPendingReads = 16
    private let shared: ProxyContext
    private var state = State.idle

    init(shared: ProxyContext) {
        self.shared = shared
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .upgrading(var pending, let size):
            // Bytes after CONNECT (a TLS ClientHello or tunnel data): keep them for the next stage. Never unwrap.
            // NIOAny does not expose its size, so the bound is on reads (each at most one socket read).
            let added = 1
            guard size + added <= Self.maxPendingReads else {
                state = .failed
                context.close(promise: nil)
                return
            }
            pending.append(data)
            state = .upgrading(pending: pending, pendingReads: size + added)
            return
        case .failed:
            return
        case .awaitingUpstream:
            state = .awaitingUpstream(pipelined: true)
            return
        case .idle, .awaitingConnectEnd, .forwarding:
            break
        }
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.idle, .head(let head)) where head.method == .CONNECT:
            receivedConnect(head, context: context)
        case (.idle, .head(let head)):
            guard head.uri.lowercased().hasPrefix("http://") else {
                refuse(.badRequest, "this is a proxy: send CONNECT host:443 or an absolute http:// URL", context: context)
                return
            }
            state = .forwarding(head, body: BoundedBody(limit: shared.configuration.maxBodyBytes))
        case (.forwarding(let head, var body), .body(let chunk)):
            guard body.append(chunk) else {
                refuse(.payloadTooLarge, "the request body exceeds the limit", context: context)
                return
            }
            state = .forwarding(head, body: body)
        case (.forwarding(let head, let body), .end):
            forwardPlain(head, body: body.buffer, context: context)
        case (.awaitingConnectEnd(let target, let plan, let creator), .end):
            startUpgrade(target: target, plan: plan, creator: creator, context: context)
        case (.awaitingConnectEnd, .body):
            break
        default:
            refuse(.badRequest, "unexpected request part", context: context)
        }
    }

    private func receivedConnect(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard let target = HostPort(parsing: head.uri), target.port > 0 else {
            refuse(.badRequest, "CONNECT needs host:port, got '\(head.uri.prefix(200))'", context: context)
            return
        }
        let plan = InterceptionPlan.plan(for: target, configuration: shared.configuration)
        if case .refuse(let status, let reason) = plan {
            refuse(HTTPResponseStatus(statusCode: status), reason, context: context)
            return
        }
        let creator = CreatorResolver.resolve(
            proxyAuthorization: head.headers.first(name: "proxy-authorization"),
            clientAddress: context.channel.remoteAddress?.ipAddress, configuration: shared.configuration)
        state = .awaitingConnectEnd(target, plan, creator)
    }

    /// After the CONNECT's end: drop HTTP parsing, then tunnel or intercept.
    private func startUpgrade(
        target: HostPort, plan: InterceptionPlan, creator: Result<TenantID, CreatorUnknown>,
        context: ChannelHandlerContext
    ) {
        state = .upgrading(pending: [], pendingReads: 0)
        // Removing the decoder forwards any bytes it already holds to us, as raw buffers.
        if let decoder = try? context.pipeline.syncOperations.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
            context.pipeline.syncOperations.removeHandler(context: decoder, promise: nil)
        }
        switch plan {
        case .intercept:
            sendEstablished(context: context)
            let exchangeCreator = creator
            shared.leafContexts.context(for: target.host, on: context.eventLoop).assumeIsolated().whenComplete { result in
                switch result {
                case .success(let sslContext):
                    self.becomeInterceptor(sslContext: sslContext, target: target, creator: exchangeCreator, context: context)
                case .failure(let error):
                    self.shared.logger.error("cannot mint a leaf certificate", metadata: ["host": "\(target.host)", "error": "\(error)"])
                    context.close(promise: nil)
                }
            }
        case .tunnel:
            openTunnel(to: target, context: context)
        case .refuse:
            context.close(promise: nil)
        }
    }

    private func sendEstablished(context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) {
            context.pipeline.syncOperations.removeHandler(context: encoder, promise: nil)
        }
    }

    private func becomeInterceptor(
        sslContext: NIOSSLContext, target: HostPort, creator: Result<TenantID, CreatorUnknown>,
        context: ChannelHandlerContext
    ) {
        guard case .upgrading(let pending, _) = state, context.channel.isActive else { return }
        do {
            let sync = context.pipeline.syncOperations
            let handlers: [any ChannelHandler] = [
                NIOSSLServerHandler(context: sslContext),
                WriteCoalescingHandler(),
                HTTPResponseEncoder(),
                ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)),
                TokenExchangeHandler(target: target, creator: creator, shared: shared),
            ]
            try sync.addHandlers(handlers, position: .after(self))
            state = .failed  // nothing more reaches this handler once it is removed
            for data in pending { context.fireChannelRead(data) }
            context.fireChannelReadComplete()
            sync.removeHandler(context: context, promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }

    private func openTunnel(to target: HostPort, context: ChannelHandlerContext) {
        let address = shared.configuration.upstreamAddress(for: target)
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.seconds(shared.configuration.connectTimeoutSeconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .connect(host: address.host, port: address.port)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let peer):
                    self.glue(peer, context: context)
                case .failure(let error):
                    self.shared.metrics.upstreamErrors.increment()
                    let failure = UpstreamError.from(error)
                    self.state = .failed
                    self.writeErrorAndClose(failure.httpStatus, failure.detail, context: context)
                }
            }
    }

    private func glue(_ peer: any Channel, context: ChannelHandlerContext) {
        guard case .upgrading(let pending, _) = state, context.channel.isActive else {
            peer.close(promise: nil)
            return
        }
        sendEstablished(context: context)
        let (local, remote) = GlueHandler.matchedPair()
        do {
            try context.pipeline.syncOperations.addHandler(local, position: .after(self))
            try peer.pipeline.syncOperations.addHandler(remote)
            state = .failed
            for data in pending { context.fireChannelRead(data) }
            context.fireChannelReadComplete()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch {
            peer.close(promise: nil)
            context.close(promise: nil)
        }
    }

    // MARK: - Plain http:// forwarding

    private func forwardPlain(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        guard let url = URLComponents(string: head.uri), let host = url.host, !host.isEmpty else {
            refuse(.badRequest, "cannot parse the absolute URL", context: context)
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
                let written = HTTPResponseWriting.write(
                    status: response.head.status, headers: HTTPResponseWriting.forwardable(response.head.headers),
                    body: response.body, keepAlive: keepAlive, context: context, wrap: self.wrapOutboundOut)
                if !keepAlive { written.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                self.writeErrorAndClose(failure.httpStatus, failure.detail, context: context)
            }
        }
    }

    // MARK: - Errors

    private func refuse(_ status: HTTPResponseStatus, _ reason: String, context: ChannelHandlerContext) {
        state = .failed
        writeErrorAndClose(status, reason, context: context)
    }

    private func writeErrorAndClose(_ status: HTTPResponseStatus, _ reason: String, context: ChannelHandlerContext) {
        let body = ProxyErrorBody(error: status == .forbidden ? "forbidden" : "proxy_error", description: reason, correlationID: .random())
        HTTPResponseWriting.json(status: status, body.json(), keepAlive: false, context: context, wrap: wrapOutboundOut)
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .idle, .awaitingConnectEnd, .forwarding:
            let (status, message) = ClientProtocolError.classify(error)
            refuse(status, message, context: context)
        case .upgrading, .awaitingUpstream, .failed:
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            switch state {
            case .idle, .awaitingConnectEnd, .forwarding: context.close(promise: nil)
            case .upgrading, .awaitingUpstream, .failed: break
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
