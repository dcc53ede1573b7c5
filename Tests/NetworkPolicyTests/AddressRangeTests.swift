import NetworkPolicy
import Testing

/// CIDR parsing (prefix limits, host bits, mapped ranges) and family-aware containment.
struct AddressRangeTests {
    static let valid: [(String, String)] = [
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("172.16.0.0/12", "172.16.0.0/12"),
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("192.0.2.1/32", "192.0.2.1/32"),
        ("::1/128", "::1/128"),
        ("::/0", "::/0"),
        ("fc00::/7", "fc00::/7"),
        ("FE80::/10", "fe80::/10"),
        ("[fe80::]/10", "fe80::/10"),
        // Mapped ranges are IPv4 ranges: the prefix loses the 96 bits of the mapped prefix.
        ("::ffff:10.0.0.0/104", "10.0.0.0/8"),
        ("::ffff:0:0/96", "0.0.0.0/0"),
        ("::ffff:192.0.2.1/128", "192.0.2.1/32"),
        // A bare address is the range of that one address.
        ("10.1.2.3", "10.1.2.3/32"),
        ("::1", "::1/128"),
        ("::ffff:1.2.3.4", "1.2.3.4/32"),
    ]

    @Test(arguments: valid)
    func parses(_ text: String, _ canonical: String) throws {
        let range = try #require(AddressRange(cidr: text))
        #expect(range.description == canonical)
        #expect(AddressRange(cidr: canonical) == range)
    }

    static let refused: [String] = [
        // Host bits beyond the prefix are a typo, not a range.
        "10.0.0.1/8", "192.168.1.0/16", "fc00::1/7", "::1/127", "::ffff:10.0.0.1/104",
        // The mapped marker itself is host bits of a prefix shorter than 96.
        "::ffff:10.0.0.0/80", "::ffff:0.0.0.0/95",
        // Prefix longer than the family, or not plain decimal.
        "10.0.0.0/33", "::/129", "10.0.0.0/1000", "10.0.0.0/", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/+8",
        "10.0.0.0/8/8", "10.0.0.0/0x8", "10.0.0.0 /8", "10.0.0.0/ 8",
        // Bad address part.
        "/8", "", "/", "10.0.0/8", "010.0.0.0/8", "fe80::%eth0/10",
    ]

    @Test(arguments: refused)
    func refuses(_ text: String) {
        #expect(AddressRange(cidr: text) == nil)
    }

    static let containment: [(String, String, Bool)] = [
        ("10.0.0.0/8", "10.0.0.0", true),
        ("10.0.0.0/8", "10.255.255.255", true),
        ("10.0.0.0/8", "11.0.0.0", false),
        ("10.0.0.0/8", "9.255.255.255", false),
        ("10.0.0.0/8", "::ffff:10.1.1.1", true),
        ("::ffff:10.0.0.0/104", "10.2.3.4", true),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
        ("0.0.0.0/0", "8.8.8.8", true),
        ("192.0.2.1", "192.0.2.1", true),
        ("192.0.2.1", "192.0.2.2", false),
        // Families never mix, not even for the widest ranges.
        ("0.0.0.0/0", "::1", false),
        ("0.0.0.0/0", "2001:db8::1", false),
        ("::/0", "10.0.0.1", false),
        ("::/0", "::ffff:10.0.0.1", false),
        ("::/0", "2001:db8::1", true),
        ("::/0", "::", true),
        ("::1/128", "::1", true),
        ("::1/128", "::2", false),
        ("fc00::/7", "fd00:ec2::254", true),
        ("fc00::/7", "fe00::1", false),
        ("fe80::/10", "febf:ffff::1", true),
        ("fe80::/10", "fec0::1", false),
        ("2001:db8::/64", "2001:db8::ffff:ffff:ffff:ffff", true),
        ("2001:db8::/64", "2001:db8:0:1::", false),
        ("2001:db8::/65", "2001:db8::7fff:ffff:ffff:ffff", true),
        ("2001:db8::/65", "2001:db8::8000:0:0:0", false),
    ]

    @Test(arguments: containment)
    func contains(_ cidr: String, _ address: String, _ expected: Bool) throws {
        let range = try #require(AddressRange(cidr: cidr))
        #expect(range.contains(try #require(IPAddress(address))) == expected)
    }

    @Test(arguments: [
        ("10.0.0.0/8", true, 8), ("::ffff:10.0.0.0/104", true, 8), ("fc00::/7", false, 7),
        ("::/0", false, 0), ("192.0.2.1", true, 32), ("::1", false, 128),
    ])
    func familyAndPrefixLength(_ cidr: String, _ isIPv4: Bool, _ prefixLength: Int) throws {
        let range = try #require(AddressRange(cidr: cidr))
        #expect(range.isIPv4 == isIPv4)
        #expect(range.prefixLength == prefixLength)
    }
}
