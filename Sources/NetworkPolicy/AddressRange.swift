/// A CIDR block of IPv4 or IPv6 addresses, such as `10.0.0.0/8` or `fc00::/7`.
///
/// Ranges say which clients may use the proxy, which destinations it refuses or opens, and which tenant a client
/// address belongs to. A range is one family: an IPv4 range never contains an IPv6 address and an IPv6 range never
/// contains an IPv4 one, so `::/0` does not quietly open every IPv4 destination. An IPv4-mapped IPv6 range
/// (`::ffff:10.0.0.0/104`) is the IPv4 range it names (`10.0.0.0/8`), as mapped addresses are IPv4 addresses.
package struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the range; its bits beyond the prefix are zero.
    package let network: IPAddress
    /// The prefix length over the 128-bit form (an IPv4 `/8` is 104), so that masking needs no family case.
    private let wideLength: Int

    /// The range of `prefixLength` leading bits of `address` in its own family (0...32 for IPv4, 0...128 for
    /// IPv6); the remaining bits are cleared. For ranges built from constants, which cannot be typos.
    init(masking address: IPAddress, prefixLength: Int) {
        let wideLength = address.isIPv4 ? prefixLength + 96 : prefixLength
        self.init(network: Self.masked(address, wideLength: wideLength), wideLength: wideLength)
    }

    private init(network: IPAddress, wideLength: Int) {
        self.network = network
        self.wideLength = wideLength
    }

    /// Parses `ADDRESS/PREFIX` (`10.0.0.0/8`, `fc00::/7`, `::ffff:10.0.0.0/104`) or a bare address, which is
    /// the range of that one address (`/32` or `/128`).
    ///
    /// The prefix is decimal without leading zeros and at most 32 after IPv4 text, 128 after IPv6 text. An
    /// address with bits set beyond the prefix (`10.0.0.1/8`) is refused rather than rounded down: it is almost
    /// always a typo, and silently opening `10.0.0.0/8` for it would open far more than was meant.
    package init?(cidr: some StringProtocol) {
        let parts = cidr.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        // Mapped text (`::ffff:10.0.0.0`) gives an IPv4 address but counts its prefix over IPv6's 128 bits.
        let writtenAsIPv6 = parts[0].utf8.contains(UInt8(ascii: ":"))
        let familyWidth = writtenAsIPv6 ? 128 : 32
        let prefixLength: Int
        if parts.count == 2 {
            guard let parsed = Self.parsePrefix(parts[1]), parsed <= familyWidth else { return nil }
            prefixLength = parsed
        } else {
            prefixLength = familyWidth
        }
        let wideLength = writtenAsIPv6 ? prefixLength : prefixLength + 96
        guard Self.masked(address, wideLength: wideLength) == address else { return nil }
        self.init(network: address, wideLength: wideLength)
    }

    /// `127.0.0.0/8` and `::1/128`: this machine, for the client default and for listeners on every address.
    static let loopback = [
        AddressRange(masking: IPAddress(ipv4: (127, 0, 0, 0)), prefixLength: 8),
        AddressRange(masking: IPAddress(high: 0, low: 1), prefixLength: 128),
    ]

    /// True for an IPv4 range.
    package var isIPv4: Bool { network.isIPv4 }

    /// The prefix length in the range's own family: 0...32 for IPv4, 0...128 for IPv6.
    package var prefixLength: Int { isIPv4 ? wideLength - 96 : wideLength }

    /// True when `address` is of the range's family and shares its prefix.
    package func contains(_ address: IPAddress) -> Bool {
        address.isIPv4 == isIPv4 && Self.masked(address, wideLength: wideLength) == network
    }

    /// `10.0.0.0/8`, `fc00::/7`: the form `init(cidr:)` reads and `--allow-destination` takes.
    package var description: String { "\(network)/\(prefixLength)" }

    /// The range of the same length that contains `address` (equal to a stored range when that range contains
    /// the address), which lets a lookup hash instead of scan.
    func enclosing(_ address: IPAddress) -> AddressRange {
        AddressRange(network: Self.masked(address, wideLength: wideLength), wideLength: wideLength)
    }

    /// `address` with every bit after the first `wideLength` of its 128-bit form cleared.
    private static func masked(_ address: IPAddress, wideLength: Int) -> IPAddress {
        // Shifts of 64 or more give zero in Swift, so both halves need no special case.
        let highMask = ~(UInt64.max >> min(wideLength, 64))
        let lowMask = ~(UInt64.max >> max(wideLength - 64, 0))
        return IPAddress(high: address.high & highMask, low: address.low & lowMask)
    }

    /// One to three decimal digits without a leading zero (except `0` itself).
    private static func parsePrefix(_ text: some StringProtocol) -> Int? {
        let digits = text.utf8
        guard (1...3).contains(digits.count), digits.first != UInt8(ascii: "0") || digits.count == 1 else {
            return nil
        }
        var value = 0
        for byte in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
