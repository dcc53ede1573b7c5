import NetworkPolicy
import Testing

/// Who may use the proxy.
struct ClientPolicyTests {
    static let loopbackRows: [(String, Bool)] = [
        ("127.0.0.1", true), ("127.1.2.3", true), ("127.255.255.255", true), ("::1", true), ("::ffff:127.0.0.1", true),
        ("128.0.0.1", false), ("126.255.255.255", false), ("10.0.0.1", false), ("192.0.2.1", false), ("::2", false),
        ("::", false), ("0.0.0.0", false), ("fe80::1", false), ("::127.0.0.1", false), ("64:ff9b::127.0.0.1", false),
    ]

    @Test(arguments: loopbackRows)
    func loopbackOnly(_ client: String, _ permitted: Bool) throws {
        #expect(ClientPolicy.loopbackOnly.permits(try #require(IPAddress(client))) == permitted)
    }

    static let configuredRows: [(String, Bool)] = [
        ("10.1.2.3", true), ("::ffff:10.1.2.3", true), ("2001:db8::5", true), ("127.0.0.1", false), ("::1", false),
        ("11.0.0.1", false), ("2001:db9::1", false),
    ]

    @Test(arguments: configuredRows)
    func configuredRanges(_ client: String, _ permitted: Bool) throws {
        let policy = ClientPolicy(allowed: [
            try #require(AddressRange(cidr: "10.0.0.0/8")), try #require(AddressRange(cidr: "2001:db8::/32")),
        ])
        #expect(policy.permits(try #require(IPAddress(client))) == permitted)
    }

    @Test func emptyPolicyPermitsNoOne() throws {
        #expect(!ClientPolicy(allowed: []).permits(try #require(IPAddress("127.0.0.1"))))
    }
}
