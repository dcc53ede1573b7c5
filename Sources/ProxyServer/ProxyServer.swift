import Audit
import CertificateAuthority
import CoreMetrics
import ExchangePolicy
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NetworkPolicy
import PolicyFiles
import PolicyService
import ServiceLifecycle
import Synchronization
import TenantPolicy
import TokenInspection

/// The forward proxy: listens, and gives every client connection its first handler (SPEC 3).
///
/// A `Service`: `run()` binds, reports the bound address through `onListening`, serves until graceful
/// shutdown, then closes the listener and lets open exchanges finish.
package final class ProxyServer: Service, Sendable {
    private let shared: ProxyContext
    /// The listener's own TLS (`--listen-tls-cert`), when it is an HTTPS proxy.
    private let listenerTLS: NIOSSLContext?
    private let group: any EventLoopGroup
    private let onListening: @Sendable (SocketAddress) -> Void
    private let entraAddressRefresher: EntraAddressRefresher

    /// Upstream TLS trusts the system roots plus `configuration.upstreamCAFiles`; an unreadable file throws.
    /// - Parameters:
    ///   - creatorVerifier: verifies makers' tokens; nil refuses every token sent (SPEC 4.1).
    ///   - threadPool: signs leaf certificates (`LeafContextCache`).
    ///   - nameLookups: looks names up (`NameLookups`), on threads of its own.
    package init(
        configuration: ProxyConfiguration,
        policies: PolicyStore,
        authority: CertificateAuthority,
        audit: AuditLog,
        creatorVerifier: (any BearerTokenVerifying)?,
        group: any EventLoopGroup,
        threadPool: NIOThreadPool,
        nameLookups: NameLookups,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) -> Void
    ) throws {
        let upstreamContext = try NIOSSLContext(
            configuration: UpstreamTLSConfiguration.make(extraCAFiles: configuration.upstreamCAFiles)
        )
        self.listenerTLS = try configuration.listenTLS.map { files in
            var tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: files.key, format: .pem))
            )
            tls.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: tls)
        }
        let entraAddresses = EntraAddresses(ranges: configuration.entraRanges)
        self.entraAddressRefresher = EntraAddressRefresher(
            addresses: entraAddresses,
            names: STSHosts.entraNamesToTrack.filter {
                configuration.upstreamOverride(for: HostPort(host: $0, port: 443)) == nil
            }
        )
        let dialer = UpstreamDialer(
            configuration: configuration,
            lookups: nameLookups,
            entraAddresses: entraAddresses,
            tlsContext: upstreamContext
        )
        let bodyBudget = BodyMemoryBudget(
            limit: configuration.bodyMemoryBudgetBytes,
            largestBody: configuration.maxBodyBytes
        )
        self.shared = ProxyContext(
            configuration: configuration,
            policies: policies,
            creators: CreatorResolver(
                verifier: creatorVerifier,
                byClientAddress: configuration.creatorTenantByClientAddress,
                defaultCreator: configuration.defaultCreatorTenant,
                ungrantedMakers: configuration.ungrantedMakers,
                isGoverned: { policies.current().bundle.isolation.tenant($0) != nil }
            ),
            dialer: dialer,
            entraAddresses: entraAddresses,
            leafContexts: LeafContextCache(
                authority: authority,
                capacity: configuration.leafCacheCapacity,
                knownNames: configuration.interception.namesKnownAtStart,
                threadPool: threadPool
            ),
            upstreamPools: PerEventLoop(group: group) {
                UpstreamConnectionPool(
                    eventLoop: $0,
                    tlsContext: upstreamContext,
                    configuration: configuration,
                    dialer: dialer,
                    bodyBudget: bodyBudget
                )
            },
            auditBatches: PerEventLoop(group: group) { AuditBatch(eventLoop: $0, log: audit) },
            bodyBudget: bodyBudget,
            metrics: ProxyMetrics(),
            logger: logger
        )
        self.group = group
        self.onListening = onListening
    }

    /// Signs the leaves of sessions that start from now on with `authority` (a CA replaced on disk, SIGHUP). Whether
    /// it was another CA than the one in use.
    @discardableResult
    package func replaceCertificateAuthority(_ authority: CertificateAuthority) -> Bool {
        shared.leafContexts.replaceAuthority(authority)
    }

    package func run() async throws {
        let channel = try await bind()
        let transparent = try await bindTransparent()
        shared.dialer.refuseOwnListeners(
            ownListeners(bound: channel.localAddress, transparent: transparent?.localAddress)
        )
        if let address = channel.localAddress { onListening(address) }
        if let address = transparent?.localAddress {
            shared.logger.info("transparent listener ready", metadata: ["address": "\(address)"])
        }
        entraAddressRefresher.start()
        defer { entraAddressRefresher.stop() }
        try await withGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
            transparent?.close(promise: nil)
        }
        await answerExchangesUnderWay()
    }

    /// Once the listeners are closed, token exchanges already upstream are given until the upstream answer deadline
    /// to be answered and their lines written, before the audit log closes behind this: a stop cut them with
    /// neither an answer nor a line (review 49 F2).
    private func answerExchangesUnderWay() async {
        let deadline = ContinuousClock.now + .seconds(shared.configuration.upstreamResponseTimeoutSeconds)
        while shared.exchangesUnderWay.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline,
            !Task.isCancelled
        {
            try? await Task.sleep(for: .milliseconds(20))
        }
        // Each loop then runs the flush its last answers scheduled.
        for loop in group.makeIterator() { try? await loop.submit {}.get() }
    }

    /// The proxy's own listeners as destinations to refuse; a name or wildcard listens on every loopback address.
    private func ownListeners(bound: SocketAddress?, transparent: SocketAddress?) -> [DestinationPolicy.Listener] {
        let configuration = shared.configuration
        let redirected = configuration.transparentListen.map {
            HostPort(host: $0.host, port: transparent?.port ?? $0.port)
        }
        let listeners =
            [HostPort(host: configuration.listen.host, port: bound?.port ?? configuration.listen.port)]
            + (redirected.map { [$0] } ?? []) + configuration.otherListeners
        return listeners.compactMap { listener in
            (IPAddress(listener.host) ?? IPAddress("0.0.0.0")).map {
                DestinationPolicy.Listener(address: $0, port: listener.port)
            }
        }
    }

    private func bind() async throws -> any Channel {
        let shared = self.shared
        let listenerTLS = self.listenerTLS
        let idle = TimeAmount.seconds(shared.configuration.clientIdleTimeoutSeconds)
        return try await listenerBootstrap()
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
                    let session = SessionPipeline(shared: shared, listenerTLS: listenerTLS, idle: idle)
                    // A trusted balancer's connection says first whose it is; nobody else's may.
                    if let peer, shared.configuration.proxyProtocolFrom.contains(where: { $0.contains(peer) }) {
                        let verdict = shared.admission.admitBalancer(peer)
                        try channel.pipeline.syncOperations.addHandler(
                            verdict == .admitted
                                ? ProxyProtocolHandler(peer: peer, shared: shared, session: session)
                                : RefusedAtAcceptHandler(verdict, client: peer, shared: shared)
                        )
                    } else {
                        try session.install(on: channel.pipeline.syncOperations, channel: channel, client: peer)
                    }
                }
            }
            .bind(host: shared.configuration.listen.host, port: shared.configuration.listen.port)
            .get()
    }

    /// Both listeners' sockets: a deep backlog, Nagle off, half-closure passed on to tunnels, and one read per wake
    /// (see `UpstreamDialer`: what a peer that stops reading makes the proxy hold).
    private func listenerBootstrap() -> ServerBootstrap {
        ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.maxMessagesPerRead, value: 1)
    }

    /// `--transparent-listen`: connections the kernel redirected, each judged by its original destination and its
    /// TLS ClientHello.
    private func bindTransparent() async throws -> (any Channel)? {
        guard let listen = shared.configuration.transparentListen else { return nil }
        let shared = self.shared
        let idle = TimeAmount.seconds(shared.configuration.clientIdleTimeoutSeconds)
        return try await listenerBootstrap()
            .childChannelInitializer { channel in
                OriginalDestination.read(channel).flatMapThrowing { original in
                    let peer = channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
                    let session = SessionPipeline(shared: shared, listenerTLS: nil, idle: idle)
                    try session.installRedirected(
                        on: channel.pipeline.syncOperations,
                        channel: channel,
                        client: peer,
                        originalDestination: original
                    )
                }
            }
            .bind(host: listen.host, port: listen.port)
            .get()
    }
}

/// What an accepted connection's pipeline becomes once its client is known (at accept, or after a balancer's PROXY
/// protocol header): admitted or refused by `ClientAdmission`, and counted while open.
struct SessionPipeline {
    let shared: ProxyContext
    let listenerTLS: NIOSSLContext?
    let idle: TimeAmount

    /// Adds the session's handlers at the end of `pipeline` (after `position`'s handler when given).
    func install(
        on pipeline: ChannelPipeline.SynchronousOperations,
        channel: any Channel,
        client address: IPAddress?,
        after position: (any ChannelHandler)? = nil
    ) throws {
        let place: ChannelPipeline.SynchronousOperations.Position = position.map { .after($0) } ?? .last
        guard let address = try admit(address, on: pipeline, channel: channel, at: place) else { return }
        var handlers: [any ChannelHandler] = []
        // An HTTPS proxy: the client's TLS with the listener comes first, under the handshake deadline.
        if let listenerTLS { handlers.append(NIOSSLServerHandler(context: listenerTLS)) }
        let deadline = RequestDeadlineHandler(
            head: .seconds(shared.configuration.requestHeadTimeoutSeconds),
            handshake: listenerTLS == nil ? nil : .seconds(shared.configuration.tlsHandshakeTimeoutSeconds)
        )
        handlers += [
            IdleStateHandler(readTimeout: idle), deadline,
            HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes), HTTPResponseEncoder(),
            ProxyRequestHandler(shared: shared, deadline: deadline, clientAddress: address),
        ]
        try pipeline.addHandlers(handlers, position: place)
    }

    /// A redirected connection's handlers: its ClientHello is read first, since only it names what it is for.
    func installRedirected(
        on pipeline: ChannelPipeline.SynchronousOperations,
        channel: any Channel,
        client address: IPAddress?,
        originalDestination: SocketAddress?
    ) throws {
        guard let address = try admit(address, on: pipeline, channel: channel, at: .last) else { return }
        let redirected = RedirectedConnection(originalDestination: originalDestination, client: address)
        try pipeline.addHandlers(
            IdleStateHandler(readTimeout: idle),
            ClientHelloPeekHandler(.redirected(redirected), client: address, shared: shared)
        )
    }

    /// `ClientAdmission`'s verdict: the admitted client, counted while its connection is open, or nil once the
    /// refusal is in place.
    private func admit(
        _ address: IPAddress?,
        on pipeline: ChannelPipeline.SynchronousOperations,
        channel: any Channel,
        at place: ChannelPipeline.SynchronousOperations.Position
    ) throws -> IPAddress? {
        let verdict = shared.admission.admit(address)
        guard verdict == .admitted, let address else {
            try pipeline.addHandler(RefusedAtAcceptHandler(verdict, client: address, shared: shared), position: place)
            return nil
        }
        let shared = self.shared
        shared.metrics.openConnections.increment()
        channel.closeFuture.whenComplete { _ in
            shared.metrics.openConnections.decrement()
            shared.admission.release(address)
        }
        return address
    }
}
