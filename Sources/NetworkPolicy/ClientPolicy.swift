/// Who may use the proxy: the client address ranges it accepts connections from.
///
/// A proxy that anyone can reach is an open proxy, so by default only the local machine may use it. An IPv4
/// client seen by a dual-stack socket as `::ffff:a.b.c.d` is judged as `a.b.c.d`, because `IPAddress` makes the
/// two the same value.
package struct ClientPolicy: Sendable {
    private let allowed: [AddressRange]

    /// A policy that permits clients in any of `allowed`; an empty list permits no one.
    package init(allowed: [AddressRange]) {
        self.allowed = allowed
    }

    /// Only clients on this machine: `127.0.0.0/8` and `::1/128`.
    package static let loopbackOnly = ClientPolicy(allowed: AddressRange.loopback)

    /// True when `address` may use the proxy.
    package func permits(_ address: IPAddress) -> Bool {
        allowed.contains { $0.contains(address) }
    }
}
