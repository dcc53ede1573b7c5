import NetworkPolicy
import Synchronization
import Testing

/// Where the proxy may connect: own listeners always refused, then `--allow-destination`, then the defaults.
struct DestinationPolicyTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let address: String
        var port = 443
        var allowed: [String] = []
        var listeners: [(String, Int)] = []
        /// nil: allowed. Otherwise words the refusal must contain.
        let refusedSaying: [String]?

        var testDescription: String {
            let verdict = refusedSaying == nil ? "allowed" : "refused"
            let allowedText = allowed.isEmpty ? "" : " with --allow-destination \(allowed.joined(separator: ","))"
            let listenerText = listeners.isEmpty ? "" : " listening on \(listeners.map { "\($0.0) \($0.1)" })"
            return "\(address) port \(port) \(verdict)\(allowedText)\(listenerText)"
        }
    }

    static let ownListener = ["is this proxy's own listener"]

    /// Every refusedByDefault range, at its edges, plus what stays open.
    static let defaults: [Row] = [
        Row(address: "0.0.0.0", refusedSaying: ["0.0.0.0/8", "this network"]),
        Row(address: "0.255.255.255", refusedSaying: ["this network"]),
        Row(address: "127.0.0.1", refusedSaying: ["127.0.0.0/8", "loopback", "--allow-destination 127.0.0.0/8"]),
        Row(address: "127.255.255.254", refusedSaying: ["loopback"]),
        Row(
            address: "169.254.169.254",
            refusedSaying: [
                "169.254.169.254 is in 169.254.0.0/16", "cloud metadata", "--allow-destination 169.254.0.0/16",
            ]
        ),
        Row(address: "::ffff:169.254.169.254", refusedSaying: ["169.254.0.0/16", "link-local"]),
        Row(
            address: "10.1.2.3",
            refusedSaying: ["10.0.0.0/8", "private (RFC 1918)", "--allow-destination 10.0.0.0/8"]
        ),
        Row(address: "172.16.0.1", refusedSaying: ["172.16.0.0/12", "RFC 1918"]),
        Row(address: "172.31.255.255", refusedSaying: ["172.16.0.0/12"]),
        Row(address: "192.168.1.1", refusedSaying: ["192.168.0.0/16", "RFC 1918"]),
        Row(address: "100.64.0.1", refusedSaying: ["100.64.0.0/10", "RFC 6598"]),
        Row(address: "100.127.255.255", refusedSaying: ["100.64.0.0/10"]),
        Row(address: "224.0.0.1", refusedSaying: ["224.0.0.0/4", "multicast"]),
        Row(address: "239.255.255.250", refusedSaying: ["multicast"]),
        Row(address: "240.0.0.1", refusedSaying: ["240.0.0.0/4", "reserved"]),
        Row(address: "255.255.255.255", refusedSaying: ["240.0.0.0/4"]),
        Row(address: "::", refusedSaying: ["::/128", "unspecified"]),
        Row(address: "::1", refusedSaying: ["::1/128", "loopback", "--allow-destination ::1/128"]),
        Row(address: "fe80::1", refusedSaying: ["fe80::/10", "link-local"]),
        Row(address: "febf::1", refusedSaying: ["fe80::/10"]),
        Row(address: "fc00::1", refusedSaying: ["fc00::/7", "unique-local"]),
        Row(address: "fd00:ec2::254", refusedSaying: ["fd00:ec2::254 is in fc00::/7", "--allow-destination fc00::/7"]),
        Row(address: "ff02::1", refusedSaying: ["ff00::/8", "multicast"]),
        Row(address: "168.63.129.16", refusedSaying: ["168.63.129.16/32", "Azure WireServer"]),
        Row(address: "192.0.0.170", refusedSaying: ["192.0.0.0/24", "RFC 6890"]),
        Row(address: "198.19.255.255", refusedSaying: ["198.18.0.0/15", "benchmarking"]),
        // IPv6 forms that carry an IPv4 address are judged by it: 6to4, local NAT64, Teredo (server or inverted
        // client), IPv4-compatible and IPv4-translated.
        Row(address: "2002:a9fe:a9fe::1", refusedSaying: ["embeds 169.254.169.254", "169.254.0.0/16"]),
        Row(address: "2002:0a01:0203::", refusedSaying: ["embeds 10.1.2.3", "RFC 1918"]),
        Row(address: "64:ff9b:1:7f00:0:100::", refusedSaying: ["embeds 127.0.0.1", "loopback"]),
        Row(address: "2001:0:a9fe:a9fe::ffff:ffff", refusedSaying: ["embeds 169.254.169.254"]),
        Row(address: "2001:0:5db8:1::80ff:fefe", refusedSaying: ["embeds 127.0.1.1", "loopback"]),
        Row(address: "::a9fe:a9fe", refusedSaying: ["embeds 169.254.169.254"]),
        Row(address: "::ffff:0:a9fe:a9fe", refusedSaying: ["embeds 169.254.169.254"]),
        Row(address: "2002:5db8:d822::1", refusedSaying: nil),
        // NAT64 addresses are judged by the IPv4 address they carry.
        Row(
            address: "64:ff9b::a9fe:a9fe",
            refusedSaying: ["64:ff9b::a9fe:a9fe embeds 169.254.169.254", "169.254.0.0/16"]
        ),
        Row(address: "64:ff9b::127.0.0.1", refusedSaying: ["embeds 127.0.0.1", "loopback"]),
        Row(address: "64:ff9b::10.0.0.1", refusedSaying: ["private (RFC 1918)"]),
        Row(address: "8.8.8.8", refusedSaying: nil),
        Row(address: "::ffff:8.8.8.8", refusedSaying: nil),
        Row(address: "1.0.0.0", refusedSaying: nil),
        Row(address: "9.255.255.255", refusedSaying: nil),
        Row(address: "11.0.0.0", refusedSaying: nil),
        Row(address: "100.63.255.255", refusedSaying: nil),
        Row(address: "100.128.0.0", refusedSaying: nil),
        Row(address: "169.253.255.255", refusedSaying: nil),
        Row(address: "172.15.255.255", refusedSaying: nil),
        Row(address: "172.32.0.0", refusedSaying: nil),
        Row(address: "192.169.0.0", refusedSaying: nil),
        Row(address: "223.255.255.255", refusedSaying: nil),
        Row(address: "2001:4860:4860::8888", refusedSaying: nil),
        Row(address: "::2", refusedSaying: ["::2 embeds 0.0.0.2", "this network"]),
        Row(address: "fec0::1", refusedSaying: nil),
        Row(address: "fe00::1", refusedSaying: nil),
        Row(address: "64:ff9b::8.8.8.8", refusedSaying: nil),
    ]

    /// `--allow-destination` and own listeners.
    static let configured: [Row] = [
        Row(
            address: "127.0.0.1",
            port: 8080,
            allowed: ["127.0.0.0/8"],
            listeners: [("127.0.0.1", 3128)],
            refusedSaying: nil
        ),
        Row(
            address: "127.0.0.1",
            port: 3128,
            allowed: ["127.0.0.0/8"],
            listeners: [("127.0.0.1", 3128)],
            refusedSaying: ["127.0.0.1:3128 is this proxy's own listener"]
        ),
        Row(
            address: "127.0.0.2",
            port: 3128,
            allowed: ["127.0.0.0/8"],
            listeners: [("127.0.0.1", 3128)],
            refusedSaying: nil
        ),
        Row(
            address: "0.0.0.0",
            port: 3128,
            allowed: ["0.0.0.0/8"],
            listeners: [("127.0.0.1", 3128)],
            refusedSaying: ownListener
        ),
        Row(address: "::", port: 3128, allowed: ["::/128"], listeners: [("::1", 3128)], refusedSaying: ownListener),
        // An unspecified listener answers on every loopback address of both families.
        Row(
            address: "127.0.0.5",
            port: 3128,
            allowed: ["127.0.0.0/8"],
            listeners: [("0.0.0.0", 3128)],
            refusedSaying: ownListener
        ),
        Row(address: "127.0.0.5", port: 3128, listeners: [("0.0.0.0", 3128)], refusedSaying: ownListener),
        Row(
            address: "::1",
            port: 3128,
            allowed: ["::1/128"],
            listeners: [("0.0.0.0", 3128)],
            refusedSaying: ["[::1]:3128 is this proxy's own listener (0.0.0.0:3128)"]
        ),
        Row(
            address: "127.0.0.1",
            port: 9090,
            allowed: ["127.0.0.0/8"],
            listeners: [("::", 9090)],
            refusedSaying: ownListener
        ),
        Row(
            address: "127.0.0.5",
            port: 3129,
            allowed: ["127.0.0.0/8"],
            listeners: [("0.0.0.0", 3128)],
            refusedSaying: nil
        ),
        Row(address: "8.8.8.8", port: 3128, listeners: [("0.0.0.0", 3128)], refusedSaying: nil),
        // A listener on a routable address, even inside an allowed range.
        Row(
            address: "192.0.2.10",
            port: 3128,
            allowed: ["0.0.0.0/0"],
            listeners: [("192.0.2.10", 3128)],
            refusedSaying: ownListener
        ),
        Row(address: "::ffff:192.0.2.10", port: 3128, listeners: [("192.0.2.10", 3128)], refusedSaying: ownListener),
        Row(address: "192.0.2.11", port: 3128, listeners: [("192.0.2.10", 3128)], refusedSaying: nil),
        // The admin listener counts as well.
        Row(
            address: "127.0.0.1",
            port: 9091,
            allowed: ["127.0.0.0/8"],
            listeners: [("127.0.0.1", 3128), ("127.0.0.1", 9091)],
            refusedSaying: ownListener
        ),
        // Allowed ranges open default-refused ones, and only what they cover.
        Row(address: "169.254.169.254", allowed: ["169.254.169.254/32"], refusedSaying: nil),
        Row(address: "169.254.169.253", allowed: ["169.254.169.254/32"], refusedSaying: ["169.254.0.0/16"]),
        Row(address: "fd00:ec2::254", allowed: ["fc00::/7"], refusedSaying: nil),
        Row(address: "10.1.2.3", allowed: ["10.1.0.0/16"], refusedSaying: nil),
        Row(address: "10.2.0.1", allowed: ["10.1.0.0/16"], refusedSaying: ["10.0.0.0/8"]),
        Row(address: "::ffff:10.1.2.3", allowed: ["::ffff:10.1.0.0/112"], refusedSaying: nil),
        Row(address: "64:ff9b::a9fe:a9fe", allowed: ["169.254.169.254/32"], refusedSaying: nil),
        Row(
            address: "64:ff9b::127.0.0.1",
            port: 3128,
            allowed: ["127.0.0.0/8"],
            listeners: [("0.0.0.0", 3128)],
            refusedSaying: ownListener
        ),
        // An IPv6 range never opens IPv4 destinations.
        Row(address: "127.0.0.1", allowed: ["::/0"], refusedSaying: ["loopback"]),
        Row(address: "::1", allowed: ["0.0.0.0/0"], refusedSaying: ["loopback"]),
        Row(address: "::1", allowed: ["0.0.0.0/0", "::/0"], refusedSaying: nil),
    ]

    @Test(arguments: defaults + configured)
    func judge(_ row: Row) throws {
        let allowed = try row.allowed.map { try #require(AddressRange(cidr: $0)) }
        let listeners = try row.listeners.map {
            DestinationPolicy.Listener(address: try #require(IPAddress($0.0)), port: $0.1)
        }
        let policy = DestinationPolicy(allowed: allowed, ownListeners: listeners)
        let verdict = policy.judge(try #require(IPAddress(row.address)), port: row.port)
        switch (verdict, row.refusedSaying) {
        case (.allowed, nil):
            break
        case (.refused(let reason), let words?):
            for word in words { #expect(reason.contains(word), "\(reason)") }
        case (.allowed, _?), (.refused, nil):
            Issue.record("got \(verdict)")
        }
    }

    @Test func refusedByDefaultIsTheDocumentedTable() {
        let table = DestinationPolicy.refusedByDefault.map { "\($0.range) \($0.name)" }
        #expect(
            table == [
                "0.0.0.0/8 this network",
                "127.0.0.0/8 loopback",
                "169.254.0.0/16 link-local (cloud metadata 169.254.169.254)",
                "10.0.0.0/8 private (RFC 1918)",
                "172.16.0.0/12 private (RFC 1918)",
                "192.168.0.0/16 private (RFC 1918)",
                "100.64.0.0/10 shared address space (RFC 6598)",
                "224.0.0.0/4 multicast",
                "240.0.0.0/4 reserved",
                "168.63.129.16/32 Azure WireServer (goal state, extension settings, certificates)",
                "192.0.0.0/24 IETF protocol assignments (RFC 6890)",
                "198.18.0.0/15 benchmarking (RFC 2544)",
                "::/128 unspecified",
                "::1/128 loopback",
                "fe80::/10 link-local",
                "fc00::/7 unique-local (incl. fd00:ec2::254)",
                "ff00::/8 multicast",
            ]
        )
    }

    /// A listener on the unspecified address is reached by every address of the host's interfaces too: review 28
    /// reached a `0.0.0.0` admin listener through the proxy by the host's own address. One bound to a single address
    /// is reached by that address only, and the interfaces are asked only at a wildcard listener's port.
    @Test func aWildcardListenerIsReachedByTheHostsOwnAddresses() throws {
        let hostAddress = try #require(IPAddress("203.0.113.7"))
        let other = try #require(IPAddress("203.0.113.8"))
        let asked = Mutex(0)
        let wildcard = DestinationPolicy(
            allowed: [],
            ownListeners: [.init(address: IPAddress(ipv4: (0, 0, 0, 0)), port: 443)],
            localAddresses: {
                asked.withLock { $0 += 1 }
                return [hostAddress]
            }
        )
        guard case .refused(let reason) = wildcard.judge(hostAddress, port: 443) else {
            Issue.record("the host's own address at the listener's port is the listener")
            return
        }
        #expect(reason.contains("own listener (0.0.0.0:443)"), "\(reason)")
        #expect(wildcard.judge(try #require(IPAddress("::ffff:203.0.113.7")), port: 443) != .allowed)
        #expect(wildcard.judge(other, port: 443) == .allowed)
        let beforeOtherPorts = asked.withLock { $0 }
        #expect(wildcard.judge(hostAddress, port: 8443) == .allowed)
        #expect(asked.withLock { $0 } == beforeOtherPorts)
        let bound = DestinationPolicy(
            allowed: [],
            ownListeners: [.init(address: IPAddress(ipv4: (127, 0, 0, 1)), port: 443)],
            localAddresses: { [hostAddress] }
        )
        #expect(bound.judge(hostAddress, port: 443) == .allowed)
    }

    @Test func listenerText() throws {
        #expect(
            DestinationPolicy.Listener(address: try #require(IPAddress("::1")), port: 3128).description == "[::1]:3128"
        )
        #expect(
            DestinationPolicy.Listener(address: IPAddress(ipv4: (127, 0, 0, 1)), port: 80).description == "127.0.0.1:80"
        )
    }
}
