/// A short, stable hash of text (64-bit FNV-1a, as 16 hex digits): tells policy versions apart in logs, metrics
/// and ETags. Not a security boundary: nothing trusts it to resist a chosen collision.
package struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    package mutating func add(_ text: String) {
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    package mutating func add(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { for byte in $0 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 } }
    }

    package var value: UInt64 { state }

    package var hex: String { Self.hex(state) }

    /// 16 hex digits.
    package static func hex(_ state: UInt64) -> String {
        let digits = String(state, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    package static func of(_ text: String) -> String {
        var hash = ContentHash()
        hash.add(text)
        return hash.hex
    }
}
