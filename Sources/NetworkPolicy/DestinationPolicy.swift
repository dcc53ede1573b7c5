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
        (ipv4(168, 63, 129, 16, prefix: 32), "Azure WireServer (goal state, extension settings, certificates)"),
        (ipv4(192, 0, 0, 0, prefix: 24), "IETF protocol assignments (RFC 6890)"),
        (ipv4(198, 18, 0, 0, prefix: 15), "benchmarking (RFC 2544)"),
        (ipv6(0, prefix: 128), "unspecified"),
        (ipv6(0, 1, prefix: 128), "loopback"),
        (ipv6(0xfe80 << 48, prefix: 10), "link-local"),
        (ipv6(0xfc00 << 48, prefix: 7), "unique-local (incl. fd00:ec2::254)"),
        (ipv6(0xff00 << 48, prefix: 8), "multicast"),
    ]

    /// IPv6 forms that carry an IPv4 address a gateway or tunnel will reach: each is judged as that address too.
    private static let nat64 = ipv6(0x0064_ff9b << 32, prefix: 96)  // RFC 6052 well-known prefix: the last 32 bits
    private static let localNAT64 = ipv6(0x0064_ff9b_0001 << 16, prefix: 48)  // RFC 8215, RFC 6052's /48 layout
    private static let sixToFour = ipv6(0x2002 << 48, prefix: 16)  // RFC 3056: bits 16 to 47
    private static let teredo = ipv6(0x2001_0000 << 32, prefix: 32)  // RFC 4380: server, and client inverted
    private static let ipv4Compatible = ipv6(0, prefix: 96)  // ::a.b.c.d, deprecated (RFC 4291)
    private static let ipv4Translated = ipv6(0, 0xffff_0000 << 32, prefix: 96)  // ::ffff:0:a.b.c.d (RFC 2765)

    /// The IPv4 addresses `address` embeds, in the forms above.
    static func embeddedIPv4(_ address: IPAddress) -> [IPAddress] {
        let v4 = { (value: UInt64) in IPAddress(ipv4Value: UInt32(truncatingIfNeeded: value)) }
        if nat64.contains(address) || ipv4Translated.contains(address) { return [v4(address.low)] }
        if localNAT64.contains(address) { return [v4((address.high & 0xffff) << 16 | (address.low >> 40) & 0xffff)] }
        if sixToFour.contains(address) { return [v4(address.high >> 16)] }
        if teredo.contains(address) { return [v4(address.high), v4(~address.low)] }
        // `::` and `::1` are judged as themselves (unspecified, loopback).
        if ipv4Compatible.contains(address), address.low > 1 { return [v4(address.low)] }
        return []
    }

    private let allowed: [AddressRange]
    private let ownListeners: [Listener]
    private let localAddresses: @Sendable () -> [IPAddress]

    /// - Parameters:
    ///   - allowed: ranges opened by `--allow-destination`; they override `refusedByDefault`, never `ownListeners`.
    ///   - ownListeners: every address and port this process listens on (proxy and admin).
    ///   - localAddresses: the addresses of the host's interfaces as they are now, where a listener on the
    ///     unspecified address is reached too; asked only of a destination at such a listener's port.
    package init(
        allowed: [AddressRange],
        ownListeners: [Listener],
        localAddresses: @escaping @Sendable () -> [IPAddress] = { [] }
    ) {
        self.allowed = allowed
        self.ownListeners = ownListeners
        self.localAddresses = localAddresses
    }

    /// Whether the proxy may connect to `address` at `port`, and if not, why.
    ///
    /// An address that embeds an IPv4 address (NAT64 `64:ff9b::a9fe:a9fe`, 6to4 `2002:a9fe:a9fe::`, Teredo,
    /// `::a.b.c.d`) is allowed only when every address it carries is: it gets the first refusal among them.
    package func judge(_ address: IPAddress, port: Int) -> DestinationVerdict {
        let embedded = Self.embeddedIPv4(address)
        for judged in embedded.isEmpty ? [address] : embedded {
            if case .refused(let reason) = judgeOne(judged, carriedBy: address, port: port) {
                return .refused(reason: reason)
            }
        }
        return .allowed
    }

    private func judgeOne(_ judged: IPAddress, carriedBy address: IPAddress, port: Int) -> DestinationVerdict {
        if let listener = ownListeners.first(where: {
            $0.isReached(by: judged, port: port, localAddresses: localAddresses)
        }) {
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
