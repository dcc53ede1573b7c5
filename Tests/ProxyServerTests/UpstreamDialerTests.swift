import NIOCore
import NetworkPolicy
import Testing

@testable import ProxyServer

/// Where the dialer refuses to go: the proxy's own listeners, by every address the host answers on.
struct UpstreamDialerTests {
    /// Review 28 reached an admin listener on `0.0.0.0` through the proxy by the host's own address. Every address of
    /// this machine's interfaces, loopback or not, is that listener at its port.
    @Test func everyAddressOfTheHostReachesAWildcardListener() async throws {
        let lookups = NameLookups(deadline: .seconds(10))
        let dialer = UpstreamDialer(
            configuration: ProxyConfiguration(defaultCreatorTenant: Fixtures.contoso),
            lookups: lookups,
            entraAddresses: EntraAddresses(ranges: []),
            tlsContext: try NIOSSLContextFactory.client()
        )
        dialer.refuseOwnListeners([.init(address: IPAddress(ipv4: (0, 0, 0, 0)), port: 4431)])
        let addresses = UpstreamDialer.interfaceAddresses()
        #expect(addresses.contains(IPAddress(ipv4: (127, 0, 0, 1))))
        for address in addresses {
            do {
                _ = try dialer.route(to: address, for: HostPort(host: address.description, port: 4431))
                Issue.record("\(address) reached the proxy's own listener")
            } catch let error as UpstreamError {
                #expect(error.code == .destinationRefused && error.detail.contains("own listener"), "\(error)")
            }
        }
        await lookups.shutdown()
    }
}
