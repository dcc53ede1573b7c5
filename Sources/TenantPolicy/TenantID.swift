/// A Microsoft Entra tenant ID: a GUID, parsed once at the edge and compared case-insensitively (SPEC 1).
///
/// Stored as two 64-bit halves so that hashing and equality cost two integer operations on the hot path,
/// whatever case or braces the GUID was written with.
public struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in any letter case; nil for anything else.
    public init?(_ text: some StringProtocol) {
        var utf8 = Array(text.utf8)
        guard utf8.count == 36 else {
            // Accept the braced registry form `{…}` too, as Graph and PowerShell sometimes print it.
            guard utf8.count == 38, utf8.first == UInt8(ascii: "{"), utf8.last == UInt8(ascii: "}") else { return nil }
            utf8 = Array(utf8[1..<37])
            guard let parsed = TenantID(bytes: utf8) else { return nil }
            self = parsed
            return
        }
        guard let parsed = TenantID(bytes: utf8) else { return nil }
        self = parsed
    }

    /// Parses 36 ASCII bytes of a hyphenated GUID.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        for (offset, byte) in bytes.enumerated() {
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            if nibbles < 16 {
                high = (high << 4) | UInt64(value)
            } else {
                low = (low << 4) | UInt64(value)
            }
            nibbles += 1
        }
        self.high = high
        self.low = low
    }

    /// The canonical lowercase hyphenated form.
    public var description: String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for index in 0..<32 {
            if index == 8 || index == 12 || index == 16 || index == 20 { out.append(UInt8(ascii: "-")) }
            let word = index < 16 ? high : low
            let shift = UInt64(60 - 4 * (index % 16))
            out.append(hex[Int((word >> shift) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (lhs: TenantID, rhs: TenantID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The Microsoft account (consumer) tenant (ENTRA-FACTS 1).
    public static let microsoftAccounts = TenantID(high: 0x9188_040d_6c67_4c5b, low: 0xb112_36a3_04b6_6dad)
}

extension TenantID: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = TenantID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a tenant GUID")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
