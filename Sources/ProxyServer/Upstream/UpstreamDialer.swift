import NIOCore
import NIOPosix
import NIOSSL
import NetworkPolicy
import Plumbing
import ServerIdentity
import TokenInspection

/// Opens every connection the proxy makes on a client's behalf (blind tunnels, intercepted and plain http
/// exchanges), so that no path reaches an address the destination policy refuses (SPEC 4.1, not an open proxy).
///
/// A name is resolved once, the address it resolved to is judged, and that same address is connected to: a DNS
/// answer that changes between the check and the connect (rebinding) cannot slip through. An `--upstream-override`
/// address is the operator's own choice and is not judged.
final class UpstreamDialer: Sendable {
    private let configuration: ProxyConfiguration
    private let lookups: NameLookups
    /// Set once the listener is bound: the proxy's own address and port are part of the policy.
    private let policy: Locked<DestinationPolicy>
    /// Learns where Entra's names resolve, so a tunnel by another name to those addresses can be told apart.
    private let entraAddresses: EntraAddresses

    /// Trusted for an `https://` parent proxy, as for upstream servers.
    private let tlsContext: NIOSSLContext

    init(
        configuration: ProxyConfiguration,
        lookups: NameLookups,
        entraAddresses: EntraAddresses,
        tlsContext: NIOSSLContext
    ) {
        self.configuration = configuration
        self.tlsContext = tlsContext
        self.lookups = lookups
        self.entraAddresses = entraAddresses
        self.policy = Locked(DestinationPolicy(allowed: configuration.allowedDestinations, ownListeners: []))
    }

    /// Adds the proxy's own listeners once they are bound (their ports may have been chosen by the system).
    func refuseOwnListeners(_ listeners: [DestinationPolicy.Listener]) {
        let allowed = configuration.allowedDestinations
        policy.withLock {
            $0 = DestinationPolicy(allowed: allowed, ownListeners: listeners, localAddresses: Self.interfaceAddresses)
        }
    }

    /// The addresses of the host's interfaces now (they may change while the proxy runs); none when they cannot be
    /// read, which leaves loopback and the unspecified address refused as before.
    @Sendable static func interfaceAddresses() -> [IPAddress] {
        ((try? System.enumerateDevices()) ?? []).compactMap { device in
            device.address?.ipAddress.flatMap { IPAddress($0) }
        }
    }

    /// Where `target` may be reached: the override, or its address once resolved and judged; through the parent
    /// proxy unless `--parent-proxy-bypass` names it.
    ///
    /// - Parameter namedByTLS: the connection verifies `target`'s name in the server's certificate (an intercepted
    ///   host). Only then may a name that does not resolve here go to the parent, whose resolver may know it: a
    ///   tunnel or plain http is judged by its address, so its name must resolve here.
    /// - Parameter client: whose request named `target` (its lookups are bounded, `NameLookups`); nil for a name
    ///   the proxy chose (a host it intercepts, asked for by its pool).
    func resolve(
        _ target: HostPort,
        namedByTLS: Bool = false,
        for client: IPAddress?,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<UpstreamRoute> {
        // NIO traps on a port that does not fit 16 bits; every caller should have refused it already.
        guard (1...65535).contains(target.port) else {
            return eventLoop.makeFailedFuture(
                UpstreamError(code: .connectFailed, detail: "\(target.port) is not a TCP port")
            )
        }
        let parent = configuration.parentProxy
        if let override = configuration.upstreamOverride(for: target) {
            let address: EventLoopFuture<SocketAddress> =
                IPAddress(override.host) != nil
                ? eventLoop.makeCompletedFuture { try SocketAddress(ipAddress: override.host, port: override.port) }
                : lookups.address(of: override.host, port: override.port, for: nil, on: eventLoop)
            return address.map { UpstreamRoute(target: override, address: $0, parent: parent) }
        }
        if let literal = IPAddress(target.host) {
            return eventLoop.makeCompletedFuture {
                UpstreamRoute(target: target, address: try judged(literal, target: target), parent: parent)
            }
        }
        return lookups.address(of: target.host, port: target.port, for: client, on: eventLoop)
            .flatMapThrowing { address in
                guard let text = address.ipAddress, let resolved = IPAddress(text) else {
                    throw UpstreamError(code: .connectFailed, detail: "\(target.host) did not resolve to an IP address")
                }
                if STSHosts.entraCloud(forHost: target.host) != nil { self.entraAddresses.learn([resolved]) }
                var route = UpstreamRoute(
                    target: target,
                    address: try self.judged(resolved, target: target),
                    parent: parent
                )
                if !namedByTLS { route.askParent(for: resolved) }
                return route
            }
            .flatMapErrorThrowing { error in
                if let error = error as? UpstreamError { throw error }
                if namedByTLS, let parent, parent.carries(host: target.host, address: nil) {
                    return UpstreamRoute(target: target, address: nil, parent: parent)
                }
                if let failure = error as? NameLookups.Failure { throw failure.upstream }
                throw UpstreamError(code: .connectFailed, detail: "\(target.host) could not be resolved (\(error))")
            }
    }

    /// Resolves, judges and connects; `initializer` sets up the channel's own handlers.
    func connect(
        _ target: HostPort,
        namedByTLS: Bool,
        for client: IPAddress?,
        on eventLoop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        resolve(target, namedByTLS: namedByTLS, for: client, on: eventLoop).flatMap {
            self.connect($0, on: eventLoop, initializer: initializer)
        }
    }

    /// Connects along `route`: to its address, or to the parent proxy, which is asked to CONNECT (`tunnel`) or is
    /// left to take absolute-form requests (plain http). The future completes once the tunnel is open.
    func connect(
        _ route: UpstreamRoute,
        tunnel: Bool = true,
        halfClosure: Bool = false,
        on eventLoop: any EventLoop,
        initializer: @escaping @Sendable (any Channel) throws -> Void
    ) -> EventLoopFuture<any Channel> {
        let timeout = TimeAmount.seconds(configuration.connectTimeoutSeconds)
        // Made where it is used: a bootstrap is not Sendable, and the parent's address arrives on another task.
        // One read per wake: NIO's default of four reads up to 256 KiB after the far side stopped reading, which the
        // proxy then holds twice (the pooled receive buffers and the encrypted copy waiting to be written), about
        // 0.7 MiB per stalled stream.
        let bootstrap = { @Sendable in
            ClientBootstrap(group: eventLoop)
                .connectTimeout(timeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelOption(.allowRemoteHalfClosure, value: halfClosure)
                .channelOption(.maxMessagesPerRead, value: 1)
        }
        guard let parent = route.parentIfCarried else {
            guard let address = route.address else {
                return eventLoop.makeFailedFuture(
                    UpstreamError(code: .connectFailed, detail: "no address to connect to")
                )
            }
            return bootstrap().channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try initializer(channel) }
            }.connect(to: address)
        }
        let established = tunnel ? eventLoop.makePromise(of: Void.self) : nil
        let tlsContext = self.tlsContext
        let target = route.parentTarget
        let opening = parentAddress(parent, on: eventLoop).flatMap { address in
            bootstrap().channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if parent.tls {
                        try sync.addHandler(
                            ServerIdentity.clientHandler(context: tlsContext, host: parent.endpoint.host)
                        )
                    }
                    if let established {
                        try sync.addHandler(
                            ParentTunnelHandler(
                                parent: parent,
                                target: target,
                                timeout: timeout,
                                established: established
                            )
                        )
                    }
                    try initializer(channel)
                }
            }.connect(to: address)
        }
        .flatMapErrorThrowing { error in
            throw Self.parentUnreachable(parent, error)
        }
        guard let established else { return opening }
        opening.cascadeFailure(to: established)
        return opening.flatMap { connected in
            established.futureResult.map { _ in connected }.flatMapErrorThrowing { error in
                connected.close(promise: nil)
                throw error
            }
        }
    }

    /// The parent's address: its literal, or its name resolved now (its DNS record may move).
    private func parentAddress(_ parent: ParentProxy, on eventLoop: any EventLoop) -> EventLoopFuture<SocketAddress> {
        let endpoint = parent.endpoint
        if IPAddress(endpoint.host) != nil {
            return eventLoop.makeCompletedFuture { try SocketAddress(ipAddress: endpoint.host, port: endpoint.port) }
        }
        return lookups.address(of: endpoint.host, port: endpoint.port, for: nil, on: eventLoop)
    }

    private static func parentUnreachable(_ parent: ParentProxy, _ error: any Error) -> UpstreamError {
        if error is ChannelError, case ChannelError.connectTimeout = error {
            return UpstreamError(code: .timedOut, detail: "connecting to the parent proxy \(parent.endpoint) timed out")
        }
        return UpstreamError(
            code: .parentFailed,
            detail: "the parent proxy \(parent.endpoint) could not be reached (\(error))"
        )
    }

    /// The route to a redirected connection's original destination, asked for by `target` (its TLS server name, or
    /// the address itself): the address judged as a tunnel's would be.
    func route(to original: IPAddress, for target: HostPort) throws -> UpstreamRoute {
        var route = UpstreamRoute(
            target: target,
            address: try judged(original, target: target),
            parent: configuration.parentProxy
        )
        route.askParent(for: original)
        return route
    }

    /// Every address `host` resolves to here, for checking a redirected connection's server name against where it
    /// was going. Addresses of Entra's names are learnt, as when they are connected to.
    func addresses(of host: String, for client: IPAddress, on eventLoop: any EventLoop) -> EventLoopFuture<[IPAddress]>
    {
        lookups.run(host, for: client, on: eventLoop) {
            let addresses = try NameResolution.addresses(of: host)
            if STSHosts.entraCloud(forHost: host) != nil { self.entraAddresses.learn(addresses) }
            return addresses
        }
    }

    private func judged(_ address: IPAddress, target: HostPort) throws -> SocketAddress {
        switch policy.withLock({ $0.judge(address, port: target.port) }) {
        case .allowed:
            do {
                return try SocketAddress(ipAddress: address.description, port: target.port)
            } catch {
                throw UpstreamError(code: .connectFailed, detail: "\(address) is not a usable address")
            }
        case .refused(let reason):
            let named = target.host == address.description ? target.host : "\(target.host) (\(address))"
            throw UpstreamError(code: .destinationRefused, detail: "\(named): \(reason)")
        }
    }
}

/// Where a connection the proxy makes goes: straight to a judged address, or through the parent proxy.
struct UpstreamRoute: Equatable {
    /// What a connection is for: the name asked for, or an override's address.
    let target: HostPort
    /// What the parent is asked to CONNECT to: the target, or for a name judged by its address (a blind tunnel, plain
    /// http), that address (`ParentProxy.TunnelTarget`).
    private(set) var parentTarget: HostPort
    /// The judged address; nil only for a TLS-verified name that resolves at the parent alone.
    let address: SocketAddress?
    /// The parent proxy configured, if any.
    let parent: ParentProxy?

    init(target: HostPort, address: SocketAddress?, parent: ParentProxy?) {
        self.target = target
        self.address = address
        self.parent = parent
        self.parentTarget = target
    }

    /// Has the parent asked for `judged`, the address this route was judged by, rather than the name, unless the
    /// operator chose names (`--parent-proxy-connect name`).
    mutating func askParent(for judged: IPAddress) {
        guard parent?.tunnelTarget == .address else { return }
        parentTarget = HostPort(host: judged.description, port: target.port)
    }

    /// The parent, unless `--parent-proxy-bypass` sends this route direct.
    var parentIfCarried: ParentProxy? {
        guard let parent else { return nil }
        let resolved = address?.ipAddress.flatMap { IPAddress($0) }
        return parent.carries(host: target.host, address: resolved) ? parent : nil
    }
}
