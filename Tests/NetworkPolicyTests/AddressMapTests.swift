import NetworkPolicy
import Testing

/// Longest-prefix match from client address to creator tenant.
struct AddressMapTests {
    static func map() throws -> AddressMap<String> {
        let entries: [(String, String)] = [
            ("10.0.0.0/8", "wide"),
            ("10.1.2.0/24", "tenant-b"),
            ("10.1.0.0/16", "tenant-a"),
            ("10.1.2.3", "host"),
            ("10.0.0.0/8", "listed twice"),
            ("::/0", "any IPv6"),
            ("2001:db8::/32", "documentation"),
            ("::ffff:192.0.2.0/120", "mapped"),
        ]
        return AddressMap(try entries.map { (try #require(AddressRange(cidr: $0.0)), $0.1) })
    }

    static let rows: [(String, String?)] = [
        ("10.9.9.9", "wide"),
        ("10.1.9.9", "tenant-a"),
        ("10.1.2.9", "tenant-b"),
        ("10.1.2.3", "host"),
        ("::ffff:10.1.2.3", "host"),
        ("192.0.2.7", "mapped"),
        ("11.0.0.1", nil),
        // ::/0 is IPv6 only.
        ("1.2.3.4", nil),
        ("2001:db8::1", "documentation"),
        ("2001:db9::1", "any IPv6"),
        ("::", "any IPv6"),
    ]

    @Test(arguments: rows)
    func mostSpecificRangeWins(_ address: String, _ expected: String?) throws {
        #expect(try Self.map().value(for: try #require(IPAddress(address))) == expected)
    }

    @Test func emptyMap() throws {
        #expect(AddressMap<Int>([]).value(for: try #require(IPAddress("10.0.0.1"))) == nil)
    }

    /// Hundreds of random nested ranges agree with the obvious answer: scan longest prefix first, first entry wins.
    @Test func agreesWithLinearScan() throws {
        var generator = SeededGenerator(seed: 0x7e4a_47)
        func randomValue() -> UInt32 {
            // A small alphabet of octets, so that ranges nest and addresses land in them often.
            (0..<4).reduce(UInt32(0)) { value, _ in
                value << 8 | UInt32([10, 11, 128, 255][Int.random(in: 0..<4, using: &generator)])
            }
        }
        func text(_ value: UInt32) -> String {
            "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        }
        var entries: [(AddressRange, Int)] = []
        for value in 0..<400 {
            let length = Int.random(in: 0...32, using: &generator)
            let network = randomValue() & ~(UInt32.max >> length)
            entries.append((try #require(AddressRange(cidr: "\(text(network))/\(length)")), value))
        }
        let map = AddressMap(entries)
        let ordered = entries.enumerated().sorted {
            ($0.element.0.prefixLength, -$0.offset) > ($1.element.0.prefixLength, -$1.offset)
        }
        for _ in 0..<2000 {
            let address = try #require(IPAddress(text(randomValue())))
            let expected = ordered.first { $0.element.0.contains(address) }?.element.1
            #expect(map.value(for: address) == expected)
        }
    }
}
