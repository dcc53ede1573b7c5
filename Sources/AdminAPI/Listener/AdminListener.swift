import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The admin listener (`--admin HOST:PORT`, loopback by default) on Hummingbird: the JSON API, health and metrics,
/// and the console when configured. A `Service` like the proxy, stopped by the same graceful shutdown.
package struct AdminListener: Service {
    /// Connections served at once: the admin listener has few callers; beyond this it stops accepting until one
    /// closes. One address holds at most `PerClientConnectionLimit.perClient` of them, so probes find a place.
    package static let maximumConnections = 256
    /// Seconds a connection may idle before it is closed.
    package static let idleTimeout = TimeAmount.seconds(60)
    /// Seconds a request head may take to arrive whole, as the proxy's `--request-head-timeout` default.
    package static let requestHeadTimeout = TimeAmount.seconds(30)

    private let application: Application<RouterResponder<AdminRequestContext>>

    /// - Parameters:
    ///   - tls: serves HTTPS with this configuration (`--admin-tls-cert`, `--admin-tls-key`); nil serves HTTP.
    ///   - services: run and stopped with the listener (the session store's expiry sweep).
    package init(
        host: String,
        port: Int,
        router: Router<AdminRequestContext>,
        tls: TLSConfiguration?,
        requestHeadTimeout: TimeAmount = Self.requestHeadTimeout,
        group: any EventLoopGroup,
        services: [any Service] = [],
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) throws {
        let perClient = PerClientConnectionLimit()
        let http = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [
                    perClient.handler(), WholeRequestDeadlineHandler(timeout: requestHeadTimeout),
                ],
                idleTimeout: Self.idleTimeout
            )
        )
        application = Application(
            router: router,
            server: try tls.map { try .tls(http, tlsConfiguration: $0) } ?? http,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maximumConnections, logger: logger)
            ),
            services: services,
            onServerRunning: { channel in
                if let address = channel.localAddress { onListening(address) }
            },
            // The proxy's event loops: the admin listener adds no threads of its own.
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
    }

    /// The TLS configuration of `--admin-tls-cert` / `--admin-tls-key` (PEM), read once at start.
    package static func tlsConfiguration(certificatePath: String, keyPath: String) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain,
            privateKey: .privateKey(key)
        )
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }

    package func run() async throws {
        try await application.run()
    }
}
