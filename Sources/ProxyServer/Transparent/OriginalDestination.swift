import NIOCore
import NetworkPolicy

#if canImport(Glibc)
import Glibc
#endif

/// Where a connection redirected by the kernel (`nft ... redirect`, `iptables -j REDIRECT` or `DNAT`) was going
/// before the redirection: `SO_ORIGINAL_DST` (`IP6T_SO_ORIGINAL_DST` for IPv6), read from the connection's
/// conntrack entry, as Squid's `intercept` and mitmproxy's transparent mode read it.
enum OriginalDestination {
    /// `SO_ORIGINAL_DST` and `IP6T_SO_ORIGINAL_DST` share the number (linux/netfilter_ipv4.h, netfilter_ipv6.h).
    private static let option = NIOBSDSocket.Option(rawValue: 80)

    /// The original destination, or nil when the connection was not redirected: no conntrack entry, or one that
    /// says the client came here directly (`local`).
    static func read(_ channel: any Channel) -> EventLoopFuture<SocketAddress?> {
        guard let provider = channel as? any SocketOptionProvider, let local = channel.localAddress else {
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        let original: EventLoopFuture<SocketAddress>
        switch local {
        case .v4:
            original = provider.unsafeGetSocketOption(level: .init(rawValue: CInt(SOL_IP)), name: option)
                .map { (address: sockaddr_in) in SocketAddress(address, host: "") }
        case .v6:
            original = provider.unsafeGetSocketOption(level: .init(rawValue: CInt(SOL_IPV6)), name: option)
                .map { (address: sockaddr_in6) in SocketAddress(address, host: "") }
        case .unixDomainSocket:
            return channel.eventLoop.makeSucceededFuture(nil)
        }
        return original.map { $0 == local ? nil : $0 }.recover { _ in nil }
    }
}
