import NetworkPolicy
import Testing

/// Parsing, canonical text and the IPv4-mapped rule of `IPAddress`.
struct IPAddressTests {
    /// Text and the canonical text it must print as (dotted quad, or RFC 5952).
    static let valid: [(String, String)] = [
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("10.0.0.0", "10.0.0.0"),
        ("::1", "::1"),
        ("::", "::"),
        ("0:0:0:0:0:0:0:0", "::"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("fd00:ec2::254", "fd00:ec2::254"),
        ("fe80::1", "fe80::1"),
        ("1::", "1::"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
        ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"),
        // A lone zero group is not shortened; the longest run wins; on a tie, the first.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        // IPv4-mapped addresses are the IPv4 address.
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("::FFFF:7f00:1", "127.0.0.1"),
        ("0:0:0:0:0:ffff:169.254.169.254", "169.254.169.254"),
        ("[::ffff:10.1.2.3]", "10.1.2.3"),
        // Other IPv4 tails stay IPv6.
        ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
        ("::1.2.3.4", "::102:304"),
        ("[::1]", "::1"),
        ("[2001:db8::1]", "2001:db8::1"),
    ]

    @Test(arguments: valid)
    func parsesToCanonicalText(_ text: String, _ canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
        #expect(IPAddress(Substring(text)) == address)
    }

    static let refused: [String] = [
        "", " ", " 192.0.2.1", "192.0.2.1 ", "192.0. 2.1", "fe80::1%eth0", "fe80::1%1", "[fe80::1%25eth0]",
        // Ambiguous IPv4: leading zeros (octal to inet_aton), shorthand, hex.
        "0127.0.0.1", "127.0.0.01", "00.0.0.0", "127.1", "127.0.1", "0x7f.0.0.1", "0x7f000001", "2130706433",
        "256.0.0.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "-1.2.3.4", "+1.2.3.4",
        "1.2.3.4/32", "１.2.3.4",
        // Brackets are for IPv6 only, and must match.
        "[192.0.2.1]", "[::1", "::1]", "[]", "[", "]",
        // IPv6 structure.
        ":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8",
        "12345::", "g::", "::ffff:1.2.3.04", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:1.2.3.4:5", "1.2.3.4::", "::1.2.3",
        "::ffff:1.2.3.4.5", "::1/128", String(repeating: "1", count: 100),
    ]

    @Test(arguments: refused)
    func refusesAmbiguousOrMalformedText(_ text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func mappedAddressIsTheIPv4Address() throws {
        let mapped = try #require(IPAddress("::ffff:127.0.0.1"))
        let plain = try #require(IPAddress("127.0.0.1"))
        #expect(mapped == plain)
        #expect(mapped.isIPv4)
        #expect(Set([mapped, plain]).count == 1)
    }

    @Test(arguments: [
        ("192.0.2.1", true), ("::ffff:192.0.2.1", true), ("::1", false), ("::", false),
        ("::192.0.2.1", false), ("64:ff9b::192.0.2.1", false), ("0.0.0.0", true),
    ])
    func family(_ text: String, _ isIPv4: Bool) throws {
        #expect(try #require(IPAddress(text)).isIPv4 == isIPv4)
    }

    @Test func fromOctets() {
        #expect(IPAddress(ipv4: (192, 0, 2, 1)) == IPAddress("192.0.2.1"))
        #expect(IPAddress(ipv4: (255, 255, 255, 255)).description == "255.255.255.255")
    }

    static let fromBytes: [([UInt8], String?)] = [
        ([192, 0, 2, 1], "192.0.2.1"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], "127.0.0.1"),
        ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "::1"),
        ([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "2001:db8::1"),
        ([], nil), ([1, 2, 3], nil), ([1, 2, 3, 4, 5], nil), ([UInt8](repeating: 0, count: 15), nil),
        ([UInt8](repeating: 0, count: 17), nil),
    ]

    @Test(arguments: fromBytes)
    func fromNetworkOrderBytes(_ bytes: [UInt8], _ text: String?) {
        #expect(IPAddress(bytes: bytes)?.description == text)
    }
}
