import Audit
import CertificateAuthority
import Foundation
import Logging
import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The forward proxy: listens, and gives every client connection its first handler (SPEC 3).
///
/// A `Service`: `run()` binds, reports the bound address through `onListening`, serves until graceful
/// shutdown, then closes the listener and lets open exchanges finish.
public final class ProxyServer: Service, Sendable {
    private let shared: ProxyContext
    private let group: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void

    /// Upstream TLS trusts the system roots plus `configuration.upstreamCAFiles`; an unreadable file throws.
    public init(
        configuration: ProxyConfiguration, policies: PolicyStore, authority: CertificateAuthority, audit: AuditLog, group: any EventLoopGroup, threadPool: NIOThreadPool,
        logger: Logger, onListening: @escaping @Sendable (SocketAddress) -> Void
    ) throws {
        let upstreamContext = try NIOSSLContext(
            configuration: Self.upstreamTLSConfiguration(extraCAFiles: configuration.upstreamCAFiles))
        self.shared = ProxyContext(
            configuration: configuration, policies: policies,
            leafContexts: LeafContextCache(
                authority: authority, capacity: configuration.leafCacheCapacity, threadPool: threadPool),
            upstreamPools: PerEventLoop(group: group) {
                UpstreamConnectionPool(eventLoop: $0, tlsContext: upstreamContext, configuration: configuration)
            },
            auditBatches: PerEventLoop(group: group) { AuditBatch(eventLoop: $0, log: audit) },
            audit: audit, metrics: ProxyMetrics(), logger: logger)
        self.group = group
        self.onListening = onListening
    }

    /// The upstream TLS configuration: system roots plus the PEM files given with `--upstream-ca`.
    static func upstreamTLSConfiguration(extraCAFiles: [String]) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.applicationProtocols = ["http/1.1"]
        if !extraCAFiles.isEmpty {
            var roots: [NIOSSLCertificate] = []
            for file in extraCAFiles {
                do {
                    roots += try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw UpstreamCAFileError(path: file, underlying: "\(error)")
                }
            }
            tls.additionalTrustRoots = [.certificates(roots)]
        }
        return tls
    }

    public func run() async throws {
        let channel = try await bind()
        if let address = channel.localAddress { onListening(address) }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    private func bind() async throws -> any Channel {
        let shared = self.shared
        let idle = TimeAmount.seconds(shared.configuration.clientIdleTimeoutSeconds)
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    shared.metrics.openConnections.increment()
                    channel.closeFuture.whenComplete { _ in shared.metrics.openConnections.decrement() }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(IdleStateHandler(readTimeout: idle))
                    try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
                    try sync.addHandler(HTTPResponseEncoder())
                    try sync.addHandler(ProxyRequestHandler(shared: shared))
                }
            }
            .bind(host: shared.configuration.listen.host, port: shared.configuration.listen.port)
            .get()
    }
}

/// An `--upstream-ca` file that cannot be read as PEM certificates.
public struct UpstreamCAFileError: Error, CustomStringConvertible {
    public let path: String
    public let underlying: String
    public var description: String { "--upstream-ca \(path): not a readable PEM certificate file (\(underlying))" }
}
