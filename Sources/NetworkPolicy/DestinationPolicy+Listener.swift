extension DestinationPolicy {
    /// An address and port this proxy listens on, so that it never tunnels a client back into itself.
    ///
    /// A tunnel to the proxy's own listener would let one client chain requests through the proxy forever,
    /// using up connections, and would reach the admin listener from the data plane.
    package struct Listener: Sendable, Hashable, CustomStringConvertible {
        /// The bound address; the unspecified address (`0.0.0.0` or `::`) means every local address.
        package let address: IPAddress
        /// The bound port.
        package let port: Int

        /// The listener at `address` and `port`, as bound (before any connection is judged).
        package init(address: IPAddress, port: Int) {
            self.address = address
            self.port = port
        }

        /// `127.0.0.1:3128` or `[::1]:3128`, the spelling a CONNECT request uses.
        package var description: String { address.isIPv4 ? "\(address):\(port)" : "[\(address)]:\(port)" }

        /// True when a connection to `destination` at `destinationPort` would arrive at this listener.
        ///
        /// A listener on the unspecified address answers on every loopback address and on every address of the
        /// host's interfaces (`localAddresses`, asked only then: review 28 reached a `0.0.0.0` admin listener by the
        /// host's own address), and a connection to the unspecified address reaches a local listener on Linux, so
        /// all of them count as the listener itself.
        func isReached(
            by destination: IPAddress,
            port destinationPort: Int,
            localAddresses: () -> [IPAddress]
        ) -> Bool {
            guard destinationPort == port else { return false }
            if destination == address || Self.unspecified.contains(destination) { return true }
            guard Self.unspecified.contains(address) else { return false }
            return AddressRange.loopback.contains { $0.contains(destination) } || localAddresses().contains(destination)
        }

        /// `0.0.0.0` and `::`.
        private static let unspecified: Set<IPAddress> = [
            IPAddress(ipv4: (0, 0, 0, 0)), IPAddress(high: 0, low: 0),
        ]
    }
}
