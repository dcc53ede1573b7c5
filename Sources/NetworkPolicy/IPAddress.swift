/// An IPv4 or IPv6 address, parsed strictly so that one address has exactly one value.
///
/// The proxy decides who may use it and where it may connect by address. An attacker who can spell one address
/// two ways (`0127.0.0.1`, `127.1`, `0x7f.0.0.1`, `::ffff:127.0.0.1`) can slip past a check that compares text,
/// so the parser refuses every ambiguous IPv4 spelling, and an IPv4-mapped IPv6 address *is* its IPv4 address:
/// `IPAddress("::ffff:127.0.0.1") == IPAddress("127.0.0.1")`.
///
/// The value is the 128-bit IPv6 form; an IPv4 address is kept as its mapped form `::ffff:a.b.c.d`, which is
/// why equality, hashing and range checks need no special case for the mapped spelling.
package struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first 64 bits of the 128-bit form.
    let high: UInt64
    /// The last 64 bits of the 128-bit form; for IPv4, `0x0000_ffff` followed by the four octets.
    let low: UInt64

    /// The marker of the IPv4-mapped range `::ffff:0:0/96` in `low`.
    private static let mappedMarker: UInt64 = 0x0000_ffff_0000_0000

    /// The address with this 128-bit value; an IPv4-mapped value is an IPv4 address.
    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The IPv4 address whose four octets, most significant first, are `value`.
    init(ipv4Value value: UInt32) {
        self.init(high: 0, low: Self.mappedMarker | UInt64(value))
    }

    /// An IPv4 address from its four octets, most significant first: `IPAddress(ipv4: (192, 0, 2, 1))`.
    ///
    /// For addresses the caller already holds as numbers (a peer's `sockaddr_in`), with nothing to parse.
    package init(ipv4 octets: (UInt8, UInt8, UInt8, UInt8)) {
        let value = UInt32(octets.0) << 24 | UInt32(octets.1) << 16 | UInt32(octets.2) << 8 | UInt32(octets.3)
        self.init(ipv4Value: value)
    }

    /// An address from its network-order bytes: 4 for IPv4, 16 for IPv6; any other count is refused.
    ///
    /// A 16-byte IPv4-mapped address becomes the IPv4 address, as a dual-stack socket reports IPv4 peers that way.
    package init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4:
            self.init(ipv4: (bytes[0], bytes[1], bytes[2], bytes[3]))
        case 16:
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self.init(high: high, low: low)
        default:
            return nil
        }
    }

    /// Parses `192.0.2.1`, `2001:db8::1`, `::ffff:192.0.2.1` or a bracketed `[2001:db8::1]`.
    ///
    /// IPv4 must be exactly four decimal octets, 0 to 255, without leading zeros: the shorthand, octal and hex
    /// forms that `inet_aton` accepts are refused, since a checker and a resolver may read them differently.
    /// Zone ids (`fe80::1%eth0`), spaces and empty text are refused: the proxy never dials a scoped address.
    package init?(_ text: some StringProtocol) {
        // The longest valid text is a bracketed IPv6 address with an IPv4 tail: 2 + 45 bytes.
        let bytes = Array(text.utf8.prefix(48))
        guard bytes.count <= 47 else { return nil }
        var body = bytes[...]
        if body.first == UInt8(ascii: "[") {
            guard body.count >= 2, body.last == UInt8(ascii: "]") else { return nil }
            body = body.dropFirst().dropLast()
            guard body.contains(UInt8(ascii: ":")) else { return nil }
        }
        if body.contains(UInt8(ascii: ":")) {
            guard let (high, low) = Self.parseIPv6(body) else { return nil }
            self.init(high: high, low: low)
        } else {
            guard let value = Self.parseIPv4(body) else { return nil }
            self.init(ipv4Value: value)
        }
    }

    /// True for an IPv4 address, including one given in IPv4-mapped IPv6 form.
    package var isIPv4: Bool { high == 0 && low & 0xffff_ffff_0000_0000 == Self.mappedMarker }

    /// `0.0.0.0` or `::`: a listener on every address, which no client can be told to connect to.
    package var isUnspecified: Bool { self == IPAddress(ipv4: (0, 0, 0, 0)) || (high == 0 && low == 0) }

    /// The four octets of an IPv4 address as one number, most significant first.
    var ipv4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// The dotted quad for IPv4; otherwise RFC 5952 text: lower-case hex, no leading zeros, the longest run
    /// of two or more zero groups (the first, on a tie) written as `::`.
    package var description: String {
        if isIPv4 {
            let value = ipv4Value
            return "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (48 - 16 * UInt64(index % 4)))
        }
        var bestStart = -1
        var bestLength = 1
        var runStart = 0
        for index in 0...8 where index == 8 || groups[index] != 0 {
            if index - runStart > bestLength {
                bestStart = runStart
                bestLength = index - runStart
            }
            runStart = index + 1
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Four decimal octets 0-255 separated by dots, no leading zeros, nothing else.
    private static func parseIPv4(_ text: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var index = text.startIndex
        for octetNumber in 0..<4 {
            if octetNumber > 0 {
                guard index < text.endIndex, text[index] == UInt8(ascii: ".") else { return nil }
                index += 1
            }
            let start = index
            var octet: UInt32 = 0
            while index < text.endIndex, index - start < 3, let digit = decimalValue(text[index]) {
                octet = octet * 10 + digit
                index += 1
            }
            let digits = index - start
            guard digits > 0, octet <= 255, digits == 1 || text[start] != UInt8(ascii: "0") else { return nil }
            value = value << 8 | octet
        }
        return index == text.endIndex ? value : nil
    }

    /// RFC 4291 section 2.2 text: up to eight groups of one to four hex digits, at most one `::`, and an
    /// optional IPv4 dotted quad as the last 32 bits.
    private static func parseIPv6(_ text: ArraySlice<UInt8>) -> (UInt64, UInt64)? {
        let colon = UInt8(ascii: ":")
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gapIndex: Int?
        var index = text.startIndex
        if text.starts(with: [colon, colon]) {
            gapIndex = 0
            index += 2
        }
        while index < text.endIndex {
            guard groups.count < 8 else { return nil }
            let start = index
            var group: UInt32 = 0
            while index < text.endIndex, let digit = hexValue(text[index]) {
                guard index - start < 4 else { return nil }
                group = group << 4 | digit
                index += 1
            }
            if index < text.endIndex, text[index] == UInt8(ascii: ".") {
                guard groups.count <= 6, let tail = parseIPv4(text[start...]) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: tail >> 16))
                groups.append(UInt16(truncatingIfNeeded: tail))
                break
            }
            guard index > start else { return nil }
            groups.append(UInt16(group))
            guard index < text.endIndex else { break }
            guard text[index] == colon else { return nil }
            index += 1
            if index < text.endIndex, text[index] == colon {
                guard gapIndex == nil else { return nil }
                gapIndex = groups.count
                index += 1
            } else if index == text.endIndex {
                return nil
            }
        }
        if let gapIndex {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gapIndex)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    private static func decimalValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        default: nil
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
