import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The admin listener (`--admin HOST:PORT`, loopback by default): health, readiness and Prometheus metrics, and
/// with `AdminPolicyAPI` the policy endpoints. A `Service` like the proxy, stopped by the same graceful
/// shutdown.
package final class AdminServer: Service, Sendable {
    /// Connections served at once: the admin API has few callers; the rest are turned away.
    package static let maximumConnections = 256
    /// Seconds a connection may idle before it is closed.
    package static let idleTimeout = TimeAmount.seconds(60)

    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let routes: AdminRoutes
    private let tls: NIOSSLContext?
    private let onListening: @Sendable (SocketAddress) -> Void
    private let open = Atomic<Int>(0)

    /// - Parameter tls: serves HTTPS with this context (`--admin-tls-cert`, `--admin-tls-key`); nil serves HTTP.
    package init(
        host: String,
        port: Int,
        group: any EventLoopGroup,
        routes: AdminRoutes,
        tls: NIOSSLContext? = nil,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.group = group
        self.routes = routes
        self.tls = tls
        self.onListening = onListening
    }

    /// The TLS context of `--admin-tls-cert` / `--admin-tls-key` (PEM), read once at start.
    package static func tlsContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain,
            privateKey: .privateKey(key)
        )
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    package func run() async throws {
        let routes = self.routes
        let tls = self.tls
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let count = open.wrappingAdd(1, ordering: .relaxed).newValue
                    channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
                    guard count <= Self.maximumConnections else {
                        channel.close(promise: nil)
                        return
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(allTimeout: Self.idleTimeout))
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.configureHTTPServerPipeline(withErrorHandling: true)
                    try sync.addHandler(AdminHandler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        if let address = channel.localAddress { onListening(address) }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// Serves `AdminRoutes` over HTTP/1.1, one request at a time per connection; bodies are bounded.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Policies are small; a megabyte is far more than any real one.
    static let maximumBodyBytes = 1 << 20

    private let routes: AdminRoutes
    private var head: HTTPRequestHead?
    private var body = Data()
    private var tooLarge = false

    init(routes: AdminRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = Data()
            tooLarge = false
        case .body(var chunk):
            guard !tooLarge else { return }
            if body.count + chunk.readableBytes > Self.maximumBodyBytes {
                tooLarge = true
                body = Data()
            } else if let bytes = chunk.readBytes(length: chunk.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let requestHead = head else { return }
            head = nil
            if tooLarge {
                write(
                    AdminAnswer.json(
                        413,
                        ["error": ["code": "RequestEntityTooLarge", "message": "the body exceeds 1 MiB"]]
                    ),
                    for: requestHead,
                    context: context
                )
                return
            }
            let request = AdminRequest(
                method: requestHead.method.rawValue,
                uri: requestHead.uri,
                headers: requestHead.headers.map { ($0.name, $0.value) },
                body: body
            )
            let routes = self.routes
            let promise = context.eventLoop.makePromise(of: AdminAnswer.self)
            promise.completeWithTask { await routes.answer(request) }
            promise.futureResult.assumeIsolated().whenSuccess { answer in
                self.write(answer, for: requestHead, context: context)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        context.close(promise: nil)
    }

    private func write(_ answer: AdminAnswer, for requestHead: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("content-length", "\(answer.body.count)")])
        if !answer.body.isEmpty || answer.status != 204 { headers.add(name: "content-type", value: answer.contentType) }
        for (name, value) in answer.headers { headers.add(name: name, value: value) }
        if !requestHead.isKeepAlive { headers.add(name: "connection", value: "close") }
        let responseHead = HTTPResponseHead(
            version: .http1_1,
            status: .init(statusCode: answer.status),
            headers: headers
        )
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if requestHead.method != .HEAD && !answer.body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))),
                promise: nil
            )
        }
        let keepAlive = requestHead.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension AdminHandler: Sendable {}
