/// A short, stable hash of text (64-bit FNV-1a, as 16 hex digits): tells policy versions apart in logs, metrics
/// and ETags. Not a security boundary: nothing trusts it to resist a chosen collision.
package struct ContentHash {
    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    package init() {}

    package mutating func add(_ text: String) {
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    /// Adds `text` eight bytes at a time (one multiply per word, not per byte): for hashing whole documents, where
    /// the byte-wise hash would cost a tenth of a second per hundred megabytes. Not the same value as `add(_:)`.
    package mutating func addWords(of text: String) {
        var text = text
        text.withUTF8 { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            var offset = 0
            while offset + 8 <= bytes.count {
                let word = raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                state = (state ^ UInt64(littleEndian: word)) &* 0x100_0000_01b3
                state ^= state >> 29
                offset += 8
            }
            for byte in bytes[offset...] { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        add(UInt64(text.utf8.count))
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
