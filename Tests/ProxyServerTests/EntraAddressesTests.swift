import NetworkPolicy
import Testing

@testable import ProxyServer

/// What the proxy knows of Entra's addresses: the operator's ranges, and what Entra's names resolved to.
struct EntraAddressesTests {
    @Test func rangesAndLearnedAddressesCount() throws {
        let addresses = EntraAddresses(ranges: [try #require(AddressRange(cidr: "40.126.0.0/18"))])
        #expect(addresses.contains(try #require(IPAddress("40.126.1.2"))))
        #expect(!addresses.contains(try #require(IPAddress("20.190.160.1"))))
        addresses.learn([try #require(IPAddress("20.190.160.1"))])
        #expect(addresses.contains(try #require(IPAddress("20.190.160.1"))))
        #expect(addresses.contains(try #require(IPAddress("::ffff:20.190.160.1"))), "the mapped spelling too")
    }

    /// At most `capacity` learned addresses, the oldest forgotten first: a resolver that hands out a new address on
    /// every lookup cannot grow the set without bound.
    @Test func theLearnedSetIsBounded() throws {
        let addresses = EntraAddresses(ranges: [])
        let first = IPAddress(ipv4: (10, 0, 0, 0))
        addresses.learn([first])
        func address(_ n: Int) -> IPAddress { IPAddress(ipv4: (10, 0, UInt8(n >> 8), UInt8(n & 0xFF))) }
        addresses.learn((1...EntraAddresses.capacity).map(address))
        #expect(addresses.learnedCount == EntraAddresses.capacity)
        #expect(!addresses.contains(first))
        #expect(addresses.contains(address(EntraAddresses.capacity)))
    }

    /// Every address a name has, not only the first (NIO's resolver gives one).
    @Test func aNameResolvesToAllItsAddresses() throws {
        let found = EntraAddressRefresher.resolveAll("localhost")
        #expect(found.contains(try #require(IPAddress("127.0.0.1"))), "\(found)")
        #expect(EntraAddressRefresher.resolveAll("no-such-name.invalid").isEmpty)
    }

    /// The refresher teaches the set what its names resolve to.
    @Test func theRefresherLearnsWhatItsNamesResolveTo() async throws {
        let addresses = EntraAddresses(ranges: [])
        let refresher = EntraAddressRefresher(addresses: addresses, names: ["localhost"])
        refresher.start()
        defer { refresher.stop() }
        let loopback = try #require(IPAddress("127.0.0.1"))
        for _ in 0..<100 where !addresses.contains(loopback) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(addresses.contains(loopback))
    }
}
