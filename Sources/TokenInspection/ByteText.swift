/// Small byte-level helpers shared by the form and JSON readers, kept non-generic so that they stay fast across
/// module boundaries.
package enum ByteText {
    /// XML's white space (space, tab, line feed, carriage return).
    static func isWhiteSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func decimalValue(_ byte: UInt8) -> UInt8? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : nil
    }

    /// The value of one hexadecimal digit, either case.
    /// An ASCII upper-case letter as lower case; any other byte as it is.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// The letters beyond ASCII that lenient readers fold into an ASCII one when they match names without case: ſ
    /// (U+017F) as s and the Kelvin sign (U+212A) as k (Go's `EqualFold`), ı (U+0131) as i (.NET's invariant upper
    /// case), and İ (U+0130) as i, to be safe. Review 58: `access_to\u212Aen` went past the fold of A–Z alone.
    private static let foldedIntoASCII: [(utf8: [UInt8], escape: [UInt8], letter: UInt8)] = [
        ([0xC5, 0xBF], Array(#"\u017f"#.utf8), UInt8(ascii: "s")),
        ([0xE2, 0x84, 0xAA], Array(#"\u212a"#.utf8), UInt8(ascii: "k")),
        ([0xC4, 0xB1], Array(#"\u0131"#.utf8), UInt8(ascii: "i")),
        ([0xC4, 0xB0], Array(#"\u0130"#.utf8), UInt8(ascii: "i")),
    ]

    /// The ASCII letter such a letter at `index` folds to, written in UTF-8 or (with `escapes`) as JSON's `\uXXXX`
    /// in either case, and how many bytes it took.
    static func foldedLetter(in bytes: [UInt8], at index: Int, escapes: Bool) -> (letter: UInt8, length: Int)? {
        guard bytes[index] >= 0x80 || (escapes && bytes[index] == UInt8(ascii: "\\")) else { return nil }
        for folded in foldedIntoASCII {
            if bytes[index...].starts(with: folded.utf8) { return (folded.letter, folded.utf8.count) }
            if escapes, index + folded.escape.count <= bytes.count,
                zip(bytes[index...], folded.escape).allSatisfy({ lowercased($0) == $1 })
            {
                return (folded.letter, folded.escape.count)
            }
        }
        return nil
    }

    /// A name as lenient readers compare it: A–Z and the letters above folded to lower-case ASCII.
    static func foldedName(_ name: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        let bytes = Array(name)
        var folded: [UInt8] = []
        folded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let (letter, length) = foldedLetter(in: bytes, at: index, escapes: false) {
                folded.append(letter)
                index += length
            } else {
                folded.append(lowercased(bytes[index]))
                index += 1
            }
        }
        return folded
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The bytes as a string, or nil when they are not valid UTF-8.
    ///
    /// Nearly everything read from tokens is ASCII (GUIDs, URLs, base64url), for which decoding cannot fail; the
    /// generic `String(validating:as:)` is reserved for the rest because it is not specialised for us.
    static func utf8String(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        isASCII(bytes) ? String(decoding: bytes, as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    /// Whether the bytes are valid UTF-8, without keeping a string.
    package static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        isASCII(bytes) || String(validating: bytes, as: UTF8.self) != nil
    }

    /// Whether no byte has its high bit set: eight bytes a step.
    private static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        var index = 0
        var highBits: UInt64 = 0
        while index + 8 <= bytes.count {
            highBits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < bytes.count {
            highBits |= UInt64(bytes[index])
            index += 1
        }
        return highBits & 0x8080_8080_8080_8080 == 0
    }
}
