import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PolicyFiles
import ProxyServer
import TenantPolicy
import ServiceLifecycle

/// The admin listener (`--admin HOST:PORT`, loopback by default): `/healthz`, `/readyz` and Prometheus
/// `/metrics` (SPEC 5 "Observable"). A `Service` like the proxy, stopped by the same graceful shutdown.
public final class AdminServer: Service, Sendable {
    private let host: String
    private let port: Int
    private let group: any EventLoopGroup
    private let routes: AdminRoutes
    private let onListening: @Sendable (SocketAddress) -> Void

    /// - Parameter renderMetrics: the Prometheus text exposition of the process's metrics.
    public init(
        host: String, port: Int, group: any EventLoopGroup, policies: PolicyStore,
        renderMetrics: @escaping @Sendable () -> [UInt8], onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.group = group
        self.routes = AdminRoutes(policies: policies, renderMetrics: renderMetrics)
        self.onListening = onListening
    }

    public func run() async throws {
        let routes = self.routes
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(AdminHandler(routes: routes))
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

/// What each admin path answers: pure, so it is tested without a socket.
public struct AdminRoutes: Sendable {
    public struct Answer: Sendable, Equatable {
        public let status: Int
        public let contentType: String
        public let body: [UInt8]
    }

    let policies: PolicyStore
    let renderMetrics: @Sendable () -> [UInt8]

    public init(policies: PolicyStore, renderMetrics: @escaping @Sendable () -> [UInt8]) {
        self.policies = policies
        self.renderMetrics = renderMetrics
    }

    public func answer(method: String, path: String) -> Answer {
        let json = "application/json; charset=utf-8"
        guard method == "GET" || method == "HEAD" else {
            return Answer(status: 405, contentType: json, body: Array(#"{"error":"method_not_allowed"}"#.utf8))
        }
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/healthz":
            return Answer(status: 200, contentType: json, body: Array(#"{"status":"ok"}"#.utf8))
        case "/readyz":
            let snapshot = policies.current()
            let body = #"{"status":"ready","policy_version":"\#(snapshot.bundle.version)","governed_tenants":\#(snapshot.bundle.isolation.tenants.count)}"#
            return Answer(status: 200, contentType: json, body: Array(body.utf8))
        case "/metrics":
            return Answer(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: renderMetrics())
        default:
            return Answer(status: 404, contentType: json, body: Array(#"{"error":"not_found"}"#.utf8))
        }
    }
}

/// Serves `AdminRoutes` over HTTP/1.1.
final class AdminHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: AdminRoutes
    private var head: HTTPRequestHead?

    init(routes: AdminRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break
        case .end:
            guard let requestHead = head else { return }
            head = nil
            let answer = routes.answer(method: requestHead.method.rawValue, path: requestHead.uri)
            var headers = HTTPHeaders([("content-type", answer.contentType), ("content-length", "\(answer.body.count)")])
            if !requestHead.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .init(statusCode: answer.status), headers: headers))), promise: nil)
            if requestHead.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: answer.body)))), promise: nil)
            }
            let keepAlive = requestHead.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}

@available(*, unavailable)
extension AdminHandler: Sendable {}
