/// Where the proxy may connect on a client's behalf, so that it is not an open proxy into the host's own network.
///
/// A forward proxy runs next to things a client must not reach: the cloud metadata service at 169.254.169.254,
/// services bound to loopback, the private network, and the proxy's own listeners. Squid ships with
/// `deny to_localhost` and `deny to_linklocal` for the same reason (HARDENING-FACTS section 2). The caller resolves
/// a host name once, judges every resulting address, and dials the address it judged, so that DNS rebinding cannot
/// swap in another address after the check.
///
/// The order of the rules is fixed: the proxy's own listeners are always refused, then `allowed` ranges
/// (from `--allow-destination`) are allowed, then the `refusedByDefault` ranges are refused, and everything else
/// is allowed.
package struct DestinationPolicy: Sendable {
    /// Ranges the proxy refuses unless `--allow-destination` opens them, each with a name for the refusal.
    package static let refusedByDefault: [(range: AddressRange, name: String)] = [
        (ipv4(0, 0, 0, 0, prefix: 8), "this network"),
        (ipv4(127, 0, 0, 0, prefix: 8), "loopback"),
        (ipv4(169, 254, 0, 0, prefix: 16), "link-local (cloud metadata 169.254.169.254)"),
        (ipv4(10, 0, 0, 0, prefix: 8), "private (RFC 1918)"),
        (ipv4(172, 16, 0, 0, prefix: 12), "private (RFC 1918)"),
        (ipv4(192, 168, 0, 0, prefix: 16), "private (RFC 1918)"),
        (ipv4(100, 64, 0, 0, prefix: 10), "shared address space (RFC 6598)"),
        (ipv4(224, 0, 0, 0, prefix: 4), "multicast"),
        (ipv4(240, 0, 0, 0, prefix: 4), "reserved"),
        (ipv6(0, prefix: 128), "unspecified"),
        (ipv6(0, 1, prefix: 128), "loopback"),
        (ipv6(0xfe80 << 48, prefix: 10), "link-local"),
        (ipv6(0xfc00 << 48, prefix: 7), "unique-local (incl. fd00:ec2::254)"),
        (ipv6(0xff00 << 48, prefix: 8), "multicast"),
    ]

    /// The NAT64 well-known prefix `64:ff9b::/96` (RFC 6052): its last 32 bits are an IPv4 address that a NAT64
    /// gateway will connect to, so the address is judged as that IPv4 address.
    private static let nat64 = ipv6(0x0064_ff9b << 32, prefix: 96)

    private let allowed: [AddressRange]
    private let ownListeners: [Listener]

    /// - Parameters:
    ///   - allowed: ranges opened by `--allow-destination`; they override `refusedByDefault`, never `ownListeners`.
    ///   - ownListeners: every address and port this process listens on (proxy and admin).
    package init(allowed: [AddressRange], ownListeners: [Listener]) {
        self.allowed = allowed
        self.ownListeners = ownListeners
    }

    /// Whether the proxy may connect to `address` at `port`, and if not, why.
    ///
    /// A NAT64 address (`64:ff9b::a9fe:a9fe`) gets the verdict of the IPv4 address it embeds (`169.254.169.254`).
    package func judge(_ address: IPAddress, port: Int) -> DestinationVerdict {
        let judged =
            Self.nat64.contains(address) ? IPAddress(ipv4Value: UInt32(truncatingIfNeeded: address.low)) : address
        if let listener = ownListeners.first(where: { $0.isReached(by: judged, port: port) }) {
            let destination = Listener(address: judged, port: port)
            return .refused(reason: "\(destination) is this proxy's own listener (\(listener)).")
        }
        if allowed.contains(where: { $0.contains(judged) }) { return .allowed }
        guard let refused = Self.refusedByDefault.first(where: { $0.range.contains(judged) }) else { return .allowed }
        let subject = judged == address ? "\(address)" : "\(address) embeds \(judged), which"
        return .refused(
            reason: "\(subject) is in \(refused.range) (\(refused.name)), refused by default; "
                + "--allow-destination \(refused.range) opens it."
        )
    }

    private static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, prefix: Int) -> AddressRange {
        AddressRange(masking: IPAddress(ipv4: (a, b, c, d)), prefixLength: prefix)
    }

    private static func ipv6(_ high: UInt64, _ low: UInt64 = 0, prefix: Int) -> AddressRange {
        AddressRange(masking: IPAddress(high: high, low: low), prefixLength: prefix)
    }
}
