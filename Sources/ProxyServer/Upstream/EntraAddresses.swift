import Dispatch
import Foundation
import NIOCore
import NetworkPolicy
import Plumbing
import TokenInspection

#if canImport(Glibc)
import Glibc
#endif

/// The addresses Entra's token service answers on, as far as this proxy knows: the operator's ranges
/// (`--entra-range`, e.g. those Microsoft publishes for its login hosts) and every address an Entra STS name
/// resolved to here. A CONNECT by some other name that lands on one of them, with a hello that names no intercepted
/// host, would reach Entra unjudged; `ClientHelloPlan` refuses it.
///
/// Entra answers on many addresses and DNS hands out a few at a time, so what was learned is a sample: the egress
/// firewall, or the published ranges, cover the rest (README, "what it cannot stop").
final class EntraAddresses: Sendable {
    /// Learned addresses kept at most; the oldest are forgotten first.
    static let capacity = 4096

    private let ranges: [AddressRange]
    private let learned = Locked(Learned())

    private struct Learned {
        var addresses: Set<IPAddress> = []
        var order: [IPAddress] = []
    }

    init(ranges: [AddressRange]) {
        self.ranges = ranges
    }

    func contains(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) } || learned.withLock { $0.addresses.contains(address) }
    }

    /// A tunnel's address when it is one of Entra's; nil for any other, or none.
    func landing(_ tunnelAddress: SocketAddress?) -> IPAddress? {
        guard let address = tunnelAddress?.ipAddress.flatMap({ IPAddress($0) }), contains(address) else { return nil }
        return address
    }

    /// Remembers addresses an Entra name resolved to.
    func learn(_ addresses: some Sequence<IPAddress>) {
        learned.withLock { learned in
            for address in addresses where learned.addresses.insert(address).inserted {
                learned.order.append(address)
                if learned.order.count > Self.capacity {
                    learned.addresses.remove(learned.order.removeFirst())
                }
            }
        }
    }

    var learnedCount: Int { learned.withLock { $0.addresses.count } }
}

/// Resolves Entra's STS names now and then, on a queue of its own (a lookup that hangs holds no thread the proxy
/// needs), and teaches `EntraAddresses` every address each name has.
final class EntraAddressRefresher: Sendable {
    private let addresses: EntraAddresses
    private let names: [String]
    private let interval: DispatchTimeInterval
    private let queue = DispatchQueue(label: "tenantgate.entra-addresses")
    private let stopped = Locked(false)

    /// - Parameter names: the names to resolve (Entra's, less those the operator points elsewhere with
    ///   `--upstream-override`: their real addresses are not where this proxy sends them).
    init(addresses: EntraAddresses, names: [String], interval: DispatchTimeInterval = .seconds(300)) {
        self.addresses = addresses
        self.names = names
        self.interval = interval
    }

    func start() {
        queue.async { self.refresh() }
    }

    func stop() {
        stopped.withLock { $0 = true }
    }

    private func refresh() {
        guard !stopped.withLock({ $0 }) else { return }
        for name in names { addresses.learn(Self.resolveAll(name)) }
        queue.asyncAfter(deadline: .now() + interval) { self.refresh() }
    }

    /// Every address `name` resolves to (NIO's resolver gives one), or none when it does not resolve.
    static func resolveAll(_ name: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var found: [IPAddress] = []
        var entry = list
        while let info = entry?.pointee {
            // The numeric text of each address, parsed as every other address here is.
            var text = [CChar](repeating: 0, count: 64)
            if let address = info.ai_addr,
                getnameinfo(address, info.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0,
                let parsed = IPAddress(
                    String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                )
            {
                found.append(parsed)
            }
            entry = info.ai_next
        }
        return found
    }
}
