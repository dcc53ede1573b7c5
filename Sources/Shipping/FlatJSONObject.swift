import Foundation

/// Reads the flat JSON objects TenantGate writes as decision lines (strings, numbers, booleans, null, arrays of
/// those) in one pass over their bytes. `JSONSerialization` took about 20 µs a line, and every sink reads every
/// line: with four sinks at 8,000 decisions/s that was most of a core. Anything else (a nested object, as in a
/// `policy_change` line, or JSON this reader does not take) is nil, for `JSONSerialization` to read.
enum FlatJSONObject {
    static func parse(_ bytes: Data) -> [String: Any]? {
        bytes.withUnsafeBytes { raw in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self))
            return reader.object()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func object() -> [String: Any]? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var fields: [String: Any] = [:]
            skipSpace()
            if take(UInt8(ascii: "}")) { return end() ? fields : nil }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = value(allowArray: true) else { return nil }
                fields[key] = value
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return end() ? fields : nil
            }
        }

        private mutating func end() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        private mutating func value(allowArray: Bool) -> Any? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return string()
            case UInt8(ascii: "["):
                guard allowArray else { return nil }
                index += 1
                var values: [Any] = []
                skipSpace()
                if take(UInt8(ascii: "]")) { return values }
                while true {
                    skipSpace()
                    guard let element = value(allowArray: false) else { return nil }
                    values.append(element)
                    skipSpace()
                    if take(UInt8(ascii: ",")) { continue }
                    return take(UInt8(ascii: "]")) ? values : nil
                }
            case UInt8(ascii: "n"):
                return literal("null") ? NSNull() : nil
            case UInt8(ascii: "t"):
                return literal("true") ? true : nil
            case UInt8(ascii: "f"):
                return literal("false") ? false : nil
            default:
                return number()
            }
        }

        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            // The common case, no escape: one copy.
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
                guard bytes[index] >= 0x20 else { return nil }
                index += 1
            }
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "\"") {
                index += 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self)
            }
            var text = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                    case UInt8(ascii: "b"): text.append(0x08)
                    case UInt8(ascii: "f"): text.append(0x0c)
                    case UInt8(ascii: "n"): text.append(0x0a)
                    case UInt8(ascii: "r"): text.append(0x0d)
                    case UInt8(ascii: "t"): text.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let scalar = unicodeEscape() else { return nil }
                        text.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    text.append(byte)
                }
            }
            return nil
        }

        /// `\uXXXX`, and its low surrogate's `\uXXXX` after a high one.
        private mutating func unicodeEscape() -> Unicode.Scalar? {
            guard let first = hex4() else { return nil }
            guard (0xD800..<0xDC00).contains(first) else { return Unicode.Scalar(first) }
            guard take(UInt8(ascii: "\\")), take(UInt8(ascii: "u")), let second = hex4(),
                (0xDC00..<0xE000).contains(second)
            else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(bytes[index])).hexDigitValue else { return nil }
                value = value * 16 + UInt32(digit)
                index += 1
            }
            return value
        }

        private mutating func number() -> Any? {
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if let integer = Int(text) { return integer }
            return Double(text)
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }
    }
}
