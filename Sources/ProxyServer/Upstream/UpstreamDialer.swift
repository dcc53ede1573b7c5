import NIOCore
import NIOPosix
import NetworkPolicy
import Plumbing
import TokenInspection

/// Opens every connection the proxy makes on a client's behalf (blind tunnels, intercepted and plain http
/// exchanges), so that no path reaches an address the destination policy refuses (SPEC 4.1, not an open proxy).
///
/// A name is resolved once, the address it resolved to is judged, and that same address is connected to: a DNS
/// answer that changes between the check and the connect (rebinding) cannot slip through. An `--upstream-override`
/// address is the operator's own choice and is not judged.
final class UpstreamDialer: Sendable {
    private let configuration: ProxyConfiguration
    private let threadPool: NIOThreadPool
    /// Set once the listener is bound: the proxy's own address and port are part of the policy.
    private let policy: Locked<DestinationPolicy>
    /// Learns where Entra's names resolve, so a tunnel by another name to those addresses can be told apart.
    private let entraAddresses: EntraAddresses

    init(configuration: ProxyConfiguration, threadPool: NIOThreadPool, entraAddresses: EntraAddresses) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.entraAddresses = entraAddresses
        self.policy = Locked(DestinationPolicy(allowed: configuration.allowedDestinations, ownListeners: []))
    }

    /// Adds the proxy's own listeners once they are bound (their ports may have been chosen by the system).
    func refuseOwnListeners(_ listeners: [DestinationPolicy.Listener]) {
        let allowed = configuration.allowedDestinations
        policy.withLock { $0 = DestinationPolicy(allowed: allowed, ownListeners: listeners) }
    }

    /// Where `target` may be reached: the override, or its address once resolved and judged.
    func resolve(_ target: HostPort, on eventLoop: any EventLoop) -> EventLoopFuture<SocketAddress> {
        // NIO traps on a port that does not fit 16 bits; every caller should have refused it already.
        guard (1...65535).contains(target.port) else {
            return eventLoop.makeFailedFuture(
                UpstreamError(code: .connectFailed, detail: "\(target.port) is not a TCP port")
            )
        }
        if let override = configuration.upstreamOverride(for: target) {
            if IPAddress(override.host) != nil {
                return eventLoop.makeCompletedFuture {
                    try SocketAddress(ipAddress: override.host, port: override.port)
                }
            }
            return threadPool.runIfActive(eventLoop: eventLoop) {
                try SocketAddress.makeAddressResolvingHost(override.host, port: override.port)
            }
        }
        if let literal = IPAddress(target.host) {
            return eventLoop.makeCompletedFuture { try judged(literal, target: target) }
        }
        let threadPool = self.threadPool
        return threadPool.runIfActive(eventLoop: eventLoop) {
            try SocketAddress.makeAddressResolvingHost(target.host, port: target.port)
        }
        .flatMapErrorThrowing { error in
            throw UpstreamError(code: .connectFailed, detail: "\(target.host) could not be resolved (\(error))")
        }
        .flatMapThrowing { address in
            guard let text = address.ipAddress, let resolved = IPAddress(text) else {
                throw UpstreamError(code: .connectFailed, detail: "\(target.host) did not resolve to an IP address")
            }
            if STSHosts.entraCloud(forHost: target.host) != nil { self.entraAddresses.learn([resolved]) }
            return try self.judged(resolved, target: target)
        }
    }

    /// Resolves, judges and connects with `bootstrap`.
    func connect(
        _ target: HostPort,
        bootstrap: ClientBootstrap,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<any Channel> {
        resolve(target, on: eventLoop).assumeIsolated().flatMap { bootstrap.connect(to: $0) }.nonisolated()
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
