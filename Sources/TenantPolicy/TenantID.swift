/// A Microsoft Entra tenant ID: a GUID, parsed once at the edge and compared case-insensitively (SPEC 1).
///
/// Stored as two 64-bit halves so that hashing and equality cost two integer operations on the hot path,
/// whatever case or braces the GUID was written with.
package struct TenantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    package let high: UInt64
    package let low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in any letter case, or its braced registry form `{…}` (Graph
    /// and PowerShell sometimes print it); nil for anything else.
    package init?(_ text: some StringProtocol) {
        var text = String(text)
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    /// Parses 36 ASCII bytes of a hyphenated GUID.
    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 36,
            let parsed = bytes.withContiguousStorageIfAvailable({ Self.parse($0) })
                ?? Array(bytes).withUnsafeBufferPointer({ Self.parse($0) })
        else { return nil }
        self = parsed
    }

    /// The one parser, over contiguous bytes: generic code across module boundaries is not specialised, and tenant
    /// IDs are parsed several times per token exchange.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> TenantID? {
        var bytes = bytes
        if bytes.count == 38, bytes[0] == UInt8(ascii: "{"), bytes[37] == UInt8(ascii: "}") {
            bytes = UnsafeBufferPointer(rebasing: bytes[1..<37])
        }
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        for offset in 0..<36 {
            let byte = bytes[offset]
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
        return TenantID(high: high, low: low)
    }

    /// The canonical lowercase hyphenated form.
    package var description: String {
        String(unsafeUninitializedCapacity: 36) { out in
            for position in 0..<36 { out[position] = canonicalByte(at: position) }
            return 36
        }
    }

    /// Appends the canonical form's bytes, for writers that build bytes (the audit line) and need no String.
    package func appendCanonicalForm(to bytes: inout [UInt8]) {
        for position in 0..<36 { bytes.append(canonicalByte(at: position)) }
    }

    /// The byte at `position` (0..<36) of `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    private func canonicalByte(at position: Int) -> UInt8 {
        let hyphensBefore: Int
        switch position {
        case 8, 13, 18, 23: return UInt8(ascii: "-")
        case ..<8: hyphensBefore = 0
        case ..<13: hyphensBefore = 1
        case ..<18: hyphensBefore = 2
        case ..<23: hyphensBefore = 3
        default: hyphensBefore = 4
        }
        let index = position - hyphensBefore
        let word = index < 16 ? high : low
        let nibble = UInt8(truncatingIfNeeded: word >> UInt64(60 - 4 * (index % 16))) & 0xF
        return nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    package static func < (lhs: TenantID, rhs: TenantID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The Microsoft account (consumer) tenant (ENTRA-FACTS 1).
    package static let microsoftAccounts = TenantID(high: 0x9188_040d_6c67_4c5b, low: 0xb112_36a3_04b6_6dad)
}

extension TenantID: Codable {
    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = TenantID(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a tenant GUID")
        }
        self = id
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension TenantID: LosslessStringConvertible {
    /// The parser under `LosslessStringConvertible`'s name, so that a route's typed path parameter reads a tenant ID.
    package init?(_ description: String) {
        var text = description
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }
}
