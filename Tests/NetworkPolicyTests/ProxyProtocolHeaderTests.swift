import NetworkPolicy
import Testing

/// The PROXY protocol header as HAProxy's specification writes it, read whole, in pieces, and spelled wrong.
struct ProxyProtocolHeaderTests {
    static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// A v2 header: version 2, `command`, `family`, then `body` (addresses, ports, TLVs).
    static func version2(command: UInt8 = 1, family: UInt8, body: [UInt8]) -> [UInt8] {
        signature + [0x20 | command, family, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    static let tcp4Body: [UInt8] = [192, 0, 2, 7, 10, 0, 0, 1, 0x9C, 0x40, 0x0C, 0x38]
    static let tcp6Body: [UInt8] =
        [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [5]
        + [UInt8](repeating: 0, count: 15) + [1] + [0x9C, 0x40, 0x01, 0xBB]

    @Test func headersOfBothVersionsNameTheirClient() {
        let line = Array("PROXY TCP4 192.0.2.7 10.0.0.1 40000 3128\r\n".utf8)
        #expect(
            ProxyProtocolHeader.read(line + Array("CONNECT".utf8))
                == .complete(source: IPAddress("192.0.2.7"), length: line.count)
        )
        let six = Array("PROXY TCP6 2001:db8::5 ::1 40000 443\r\n".utf8)
        #expect(ProxyProtocolHeader.read(six) == .complete(source: IPAddress("2001:db8::5"), length: six.count))
        #expect(ProxyProtocolHeader.read(Array("PROXY UNKNOWN\r\n".utf8)) == .complete(source: nil, length: 15))
        // An IPv4 client written as IPv6, as several balancers write one: the IPv4 address it carries (review 50 F1).
        let mapped = Array("PROXY TCP6 ::ffff:192.0.2.7 ::ffff:10.0.0.1 40000 3128\r\n".utf8)
        #expect(ProxyProtocolHeader.read(mapped) == .complete(source: IPAddress("192.0.2.7"), length: mapped.count))
        let v2 = Self.version2(family: 0x11, body: Self.tcp4Body)
        #expect(
            ProxyProtocolHeader.read(v2 + [0x16, 0x03]) == .complete(source: IPAddress("192.0.2.7"), length: v2.count)
        )
        let v6 = Self.version2(family: 0x21, body: Self.tcp6Body)
        #expect(ProxyProtocolHeader.read(v6) == .complete(source: IPAddress("2001:db8::5"), length: v6.count))
        // TLVs after the addresses are skipped; LOCAL (a health check) names nobody.
        let tlvs = Self.version2(family: 0x11, body: Self.tcp4Body + [0x04, 0x00, 0x02, 0xAB, 0xCD])
        #expect(ProxyProtocolHeader.read(tlvs) == .complete(source: IPAddress("192.0.2.7"), length: tlvs.count))
        let local = Self.version2(command: 0, family: 0x00, body: [])
        #expect(ProxyProtocolHeader.read(local) == .complete(source: nil, length: 16))
    }

    @Test func everyPrefixOfAHeaderAsksForMore() {
        for header in [
            Array("PROXY TCP4 192.0.2.7 10.0.0.1 40000 3128\r\n".utf8),
            Self.version2(family: 0x11, body: Self.tcp4Body),
        ] {
            for length in 0..<header.count {
                #expect(ProxyProtocolHeader.read(Array(header.prefix(length))) == .needMoreBytes, "\(length)")
            }
        }
    }

    @Test func anythingElseIsInvalid() {
        let invalid: [[UInt8]] = [
            Array("CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n".utf8),
            Array("PROXY TCP4 192.0.2.7 10.0.0.1 40000\r\n".utf8),
            Array("PROXY TCP4 2001:db8::5 10.0.0.1 40000 3128\r\n".utf8),
            Array("PROXY TCP4 ::ffff:192.0.2.7 10.0.0.1 40000 3128\r\n".utf8),
            Array("PROXY TCP6 192.0.2.7 10.0.0.1 40000 443\r\n".utf8),
            Array("PROXY TCP6 2001:db8::5 10.0.0.1 40000 443\r\n".utf8),
            Array("PROXY TCP4 192.0.2.7 10.0.0.1 +4000 3128\r\n".utf8),
            Array("PROXY TCP4 192.0.2.7 10.0.0.1 040000 3128\r\n".utf8),
            Array("PROXY TCP5 192.0.2.7 10.0.0.1 40000 3128\r\n".utf8),
            Array(("PROXY " + String(repeating: "9", count: 120)).utf8),
            Self.signature + [0x31, 0x11, 0, 12] + Self.tcp4Body,
            Self.version2(command: 2, family: 0x11, body: Self.tcp4Body),
            Self.version2(family: 0x11, body: [192, 0, 2]),
            Self.version2(family: 0x31, body: Self.tcp4Body),
            Self.signature + [0x21, 0x11, 0xFF, 0xFF],
        ]
        for bytes in invalid {
            guard case .invalid = ProxyProtocolHeader.read(bytes) else {
                Issue.record("read as a header: \(bytes)")
                continue
            }
        }
    }

    /// Seeded mutations of both versions: every answer is one of the three, never a trap.
    @Test func mutatedHeadersNeverTrap() {
        let seeds = [
            Array("PROXY TCP6 2001:db8::5 ::1 40000 443\r\n".utf8),
            Self.version2(family: 0x21, body: Self.tcp6Body + [0x01, 0x00, 0x02, 0x68, 0x32]),
        ]
        var state: UInt64 = 0x7072_6F78
        for iteration in 0..<5_000 {
            var bytes = seeds[iteration % seeds.count]
            for _ in 0..<(1 + iteration % 4) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let position = Int(state >> 33) % bytes.count
                bytes[position] = UInt8(truncatingIfNeeded: state >> 17)
            }
            if case .complete(_, let length) = ProxyProtocolHeader.read(bytes) {
                #expect(length > 0 && length <= bytes.count)
            }
        }
    }
}
