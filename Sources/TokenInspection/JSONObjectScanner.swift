/// A value read from a chosen member of a JSON object by `JSONObjectScanner`.
///
/// Only what token inspection needs is kept: strings, numbers and arrays of them. Objects, literals and nested
/// arrays are validated and reported as `.other`.
package enum ScannedValue: Equatable {
    case string(String)
    case number(Double)
    case array([ScannedValue])
    case other

    package var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    package var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The string elements of an array, or nil when this is not an array of strings only.
    package var strings: [String]? {
        guard case .array(let elements) = self else { return nil }
        var texts: [String] = []
        texts.reserveCapacity(elements.count)
        for element in elements {
            guard case .string(let text) = element else { return nil }
            texts.append(text)
        }
        return texts
    }
}

/// The member names a reader wants, kept as bytes too so that keys are matched without building strings. Build
/// once, as a `static let`.
package struct MemberNames: Sendable, ExpressibleByArrayLiteral {
    fileprivate let bytes: [[UInt8]]
    /// Names match in any ASCII letter case (`ignoringCase`).
    private let foldsCase: Bool

    package init(arrayLiteral names: String...) {
        bytes = names.map { Array($0.utf8) }
        foldsCase = false
    }

    /// Names as lenient readers match them: in any letter case. A token answer is read so, since Json.NET and Go's
    /// `encoding/json` take `ACCESS_TOKEN` for `access_token` (review 56: a second token under that name went to
    /// the client unjudged); a name met twice in two cases then makes the answer unreadable, as any repeat does.
    package init(ignoringCase names: String...) {
        bytes = names.map { Array($0.lowercased().utf8) }
        foldsCase = true
    }

    /// Compared byte by byte over buffers: the generic `elementsEqual` showed in profiles.
    fileprivate func index(of name: UnsafeBufferPointer<UInt8>) -> Int? {
        if foldsCase, name.contains(where: { $0 >= 0x80 }) {
            // Rare: a name beyond ASCII, which may still fold into a wanted one.
            let folded = ByteText.foldedName(name)
            return folded.withUnsafeBufferPointer { folded in bytes.firstIndex { $0.elementsEqual(folded) } }
        }
        for (index, candidate) in bytes.enumerated() where candidate.count == name.count {
            let equal = candidate.withUnsafeBufferPointer { candidate in
                for offset in 0..<name.count {
                    let byte = foldsCase ? ByteText.lowercased(name[offset]) : name[offset]
                    if candidate[offset] != byte { return false }
                }
                return true
            }
            if equal { return index }
        }
        return nil
    }
}

/// The chosen members found in a JSON object, by name.
///
/// A linear list rather than a dictionary: a handful of names, and a dictionary's storage is allocated through
/// the runtime's generic metadata lookup on every call.
package struct ScannedMembers {
    fileprivate let names: MemberNames
    fileprivate let values: [ScannedValue?]

    fileprivate init(names: MemberNames, values: [ScannedValue?]) {
        self.names = names
        self.values = values
    }

    package subscript(name: StaticString) -> ScannedValue? {
        let raw = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return names.index(of: raw).flatMap { values[$0] }
    }

    /// Whether no wanted member was found.
    package var isEmpty: Bool { values.allSatisfy { $0 == nil } }
}

/// Where a chosen member's value lies in the scanned bytes, for a reader that writes values on as they are: the
/// shipper copies them from audit lines into SIEM formats, so nothing is decoded, allocated or freed per member.
package struct MemberSpan: Equatable {
    package enum Kind: Equatable {
        /// A string whose body has no escapes: its bytes are its UTF-8, checked.
        case plainString
        /// A string with escapes: `JSONObjectScanner.string(_:in:)` decodes it.
        case escapedString
        case number
        /// An array of any values, validated: `JSONObjectScanner.strings(_:in:)` reads its strings.
        case array
        /// An object, a literal, or null.
        case other
    }

    package var kind: Kind
    /// A string's body between its quotes; the whole text of any other value.
    package var range: Range<Int>
}

/// The chosen members found in a JSON object, by name, as spans of its bytes (`MemberSpan`).
package struct ScannedSpans {
    fileprivate let names: MemberNames
    fileprivate let spans: [MemberSpan?]

    package subscript(name: StaticString) -> MemberSpan? {
        let raw = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return names.index(of: raw).flatMap { spans[$0] }
    }

    /// Whether no wanted member was found.
    package var isEmpty: Bool { spans.allSatisfy { $0 == nil } }
}

/// Reads chosen members of one JSON object (RFC 8259) in a single pass over its bytes, validating and skipping
/// everything else.
///
/// Token responses and JWT payloads are read on every token exchange; Foundation's decoders built a whole
/// document model for a handful of strings and were the largest item of the proxy's own work in `perf`. The
/// scanner is strict: one object and nothing after it, nesting at most `maximumDepth` deep, no control
/// characters or invalid escapes in strings, valid UTF-8 in the strings it returns, and a chosen member named
/// twice makes the whole document unreadable (two `tid` claims must not let the proxy and Entra read
/// different tenants).
package enum JSONObjectScanner {
    static let maximumDepth = 32

    /// The members named in `wanted`, or nil when `bytes` is not one well-formed JSON object.
    package static func members(of bytes: some Collection<UInt8>, wanted: MemberNames) -> ScannedMembers? {
        if let result = bytes.withContiguousStorageIfAvailable({ members(in: $0, wanted: wanted) }) {
            return result
        }
        return Array(bytes).withUnsafeBufferPointer { members(in: $0, wanted: wanted) }
    }

    /// The spans of the members named in `wanted`, or nil when `bytes` is not one well-formed JSON object; as strict
    /// as `members(of:wanted:)`, strings checked for valid UTF-8 included.
    package static func spans(in bytes: UnsafeBufferPointer<UInt8>, wanted: MemberNames) -> ScannedSpans? {
        walk(bytes, wanted: wanted) { $0.readSpan(depth: 1) }.map { ScannedSpans(names: wanted, spans: $0) }
    }

    /// A string member's text, unescaped; nil when `span` is not a string.
    package static func string(_ span: MemberSpan, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let body = UnsafeBufferPointer(rebasing: bytes[span.range])
        switch span.kind {
        case .plainString: return String(decoding: body, as: UTF8.self)
        case .escapedString: return Cursor.unescape(body)
        case .number, .array, .other: return nil
        }
    }

    /// An array member's elements when all are strings; nil otherwise.
    package static func strings(_ span: MemberSpan, in bytes: UnsafeBufferPointer<UInt8>) -> [String]? {
        guard span.kind == .array else { return nil }
        var cursor = Cursor(bytes: UnsafeBufferPointer(rebasing: bytes[span.range]))
        return cursor.readValue(depth: 1)?.strings
    }

    private static func members(in bytes: UnsafeBufferPointer<UInt8>, wanted: MemberNames) -> ScannedMembers? {
        walk(bytes, wanted: wanted) { $0.readValue(depth: 1) }.map { ScannedMembers(names: wanted, values: $0) }
    }

    /// The one pass both readers share: the wanted members' values as `read` takes them (nil: malformed), every
    /// other value validated and skipped; nil when the bytes are not one object, or name a wanted member twice.
    private static func walk<Value>(
        _ bytes: UnsafeBufferPointer<UInt8>,
        wanted: MemberNames,
        read: (inout Cursor) -> Value?
    ) -> [Value?]? {
        var cursor = Cursor(bytes: bytes)
        var found = [Value?](repeating: nil, count: wanted.bytes.count)
        cursor.skipWhitespace()
        guard cursor.take(UInt8(ascii: "{")) else { return nil }
        cursor.skipWhitespace()
        if !cursor.take(UInt8(ascii: "}")) {
            while true {
                let name = cursor.readName(matching: wanted)
                if case .malformed = name { return nil }
                cursor.skipWhitespace()
                guard cursor.take(UInt8(ascii: ":")) else { return nil }
                cursor.skipWhitespace()
                if case .wanted(let index) = name {
                    guard found[index] == nil, let value = read(&cursor) else { return nil }
                    found[index] = value
                } else {
                    guard cursor.skipValue(depth: 1) else { return nil }
                }
                cursor.skipWhitespace()
                if cursor.take(UInt8(ascii: "}")) { break }
                guard cursor.take(UInt8(ascii: ",")) else { return nil }
                cursor.skipWhitespace()
            }
        }
        cursor.skipWhitespace()
        return cursor.isAtEnd ? found : nil
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var isAtEnd: Bool { index >= bytes.count }

        private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func take(_ byte: UInt8) -> Bool {
            guard current == byte else { return false }
            index += 1
            return true
        }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        /// A chosen member's value: strings and numbers decoded, arrays of them collected, the rest skipped.
        mutating func readValue(depth: Int) -> ScannedValue? {
            guard let byte = current else { return nil }
            switch byte {
            case UInt8(ascii: "\""):
                return readString().map(ScannedValue.string)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return readNumber().map(ScannedValue.number)
            case UInt8(ascii: "["):
                guard depth < JSONObjectScanner.maximumDepth else { return nil }
                index += 1
                var elements: [ScannedValue] = []
                skipWhitespace()
                if take(UInt8(ascii: "]")) { return .array(elements) }
                while let element = current {
                    switch element {
                    case UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        guard let element = readValue(depth: depth + 1) else { return nil }
                        elements.append(element)
                    default:
                        guard skipValue(depth: depth + 1) else { return nil }
                        elements.append(.other)
                    }
                    skipWhitespace()
                    if take(UInt8(ascii: "]")) { return .array(elements) }
                    guard take(UInt8(ascii: ",")) else { return nil }
                    skipWhitespace()
                }
                return nil
            default:
                return skipValue(depth: depth) ? .other : nil
            }
        }

        /// A chosen member's value as a span: a string's body checked for UTF-8, any other value validated.
        mutating func readSpan(depth: Int) -> MemberSpan? {
            guard let byte = current else { return nil }
            if byte == UInt8(ascii: "\"") {
                guard let (body, escaped) = scanString() else { return nil }
                if escaped {
                    guard Self.unescape(UnsafeBufferPointer(rebasing: bytes[body])) != nil else { return nil }
                    return MemberSpan(kind: .escapedString, range: body)
                }
                guard ByteText.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[body])) else { return nil }
                return MemberSpan(kind: .plainString, range: body)
            }
            let start = index
            guard skipValue(depth: depth) else { return nil }
            let kind: MemberSpan.Kind =
                switch byte {
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): .number
                case UInt8(ascii: "["): .array
                default: .other
                }
            return MemberSpan(kind: kind, range: start..<index)
        }

        /// Validates one value of any kind and moves past it.
        mutating func skipValue(depth: Int) -> Bool {
            guard let byte = current else { return false }
            switch byte {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return numberEnd() != nil
            case UInt8(ascii: "t"): return takeLiteral("true")
            case UInt8(ascii: "f"): return takeLiteral("false")
            case UInt8(ascii: "n"): return takeLiteral("null")
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                guard depth < JSONObjectScanner.maximumDepth else { return false }
                let isObject = byte == UInt8(ascii: "{")
                let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                index += 1
                skipWhitespace()
                if take(close) { return true }
                while true {
                    if isObject {
                        guard skipString() else { return false }
                        skipWhitespace()
                        guard take(UInt8(ascii: ":")) else { return false }
                        skipWhitespace()
                    }
                    guard skipValue(depth: depth + 1) else { return false }
                    skipWhitespace()
                    if take(close) { return true }
                    guard take(UInt8(ascii: ",")) else { return false }
                    skipWhitespace()
                }
            default:
                return false
            }
        }

        private mutating func takeLiteral(_ literal: StaticString) -> Bool {
            let length = literal.utf8CodeUnitCount
            guard bytes.count - index >= length else { return false }
            for offset in 0..<length where bytes[index + offset] != literal.utf8Start[offset] { return false }
            index += length
            return true
        }

        /// Moves past a number (RFC 8259 section 6) and returns where it ended, or nil if it is malformed.
        private mutating func numberEnd() -> Int? {
            _ = take(UInt8(ascii: "-"))
            if take(UInt8(ascii: "0")) {
                // A leading zero stands alone.
            } else {
                guard skipDigits() else { return nil }
            }
            if take(UInt8(ascii: ".")) {
                guard skipDigits() else { return nil }
            }
            if take(UInt8(ascii: "e")) || take(UInt8(ascii: "E")) {
                if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
                guard skipDigits() else { return nil }
            }
            return index
        }

        private mutating func skipDigits() -> Bool {
            let start = index
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index > start
        }

        private mutating func readNumber() -> Double? {
            let start = index
            guard let end = numberEnd() else { return nil }
            return Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
        }

        /// Moves past a string, checking its escapes, and reports whether it has any.
        private mutating func scanString() -> (body: Range<Int>, escaped: Bool)? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var escaped = false
            while true {
                skipPlainRun()
                guard let byte = current else { return nil }
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return (start..<(index - 1), escaped)
                case UInt8(ascii: "\\"):
                    escaped = true
                    index += 1
                    guard let next = current else { return nil }
                    switch next {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        guard bytes.count - index > 4 else { return nil }
                        for offset in 1...4 where ByteText.hexValue(bytes[index + offset]) == nil { return nil }
                        index += 5
                    default:
                        return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
        }

        /// Moves past string bytes that need no look (neither `"`, `\` nor a control character), eight at a time:
        /// the strings of a token answer are kilobytes of base64url, and this walk was the scanner's largest cost.
        private mutating func skipPlainRun() {
            guard let base = bytes.baseAddress else { return }
            let raw = UnsafeRawPointer(base)
            while bytes.count - index >= 8,
                !Self.hasByteToLookAt(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            {
                index += 8
            }
        }

        /// Whether any byte of `word` is `"`, `\` or below 0x20 (the "has zero byte" and "has byte less than"
        /// tests of Anderson's Bit Twiddling Hacks: exact about whether one exists, which is all this needs).
        static func hasByteToLookAt(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let found =
                ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            return found & (ones &* 0x80) != 0
        }

        private mutating func skipString() -> Bool { scanString() != nil }

        enum Name {
            case malformed
            case unwanted
            case wanted(index: Int)
        }

        /// Reads a member name and says which of `names` it is.
        mutating func readName(matching names: MemberNames) -> Name {
            guard let (body, escaped) = scanString() else { return .malformed }
            let raw = UnsafeBufferPointer(rebasing: bytes[body])
            let index: Int?
            if escaped {
                guard var name = Self.unescape(raw) else { return .malformed }
                index = name.withUTF8 { names.index(of: $0) }
            } else {
                index = names.index(of: raw)
            }
            return index.map { .wanted(index: $0) } ?? .unwanted
        }

        mutating func readString() -> String? {
            guard let (body, escaped) = scanString() else { return nil }
            let raw = UnsafeBufferPointer(rebasing: bytes[body])
            guard escaped else { return ByteText.utf8String(raw) }
            return Self.unescape(raw)
        }

        /// The bytes of an escaped string body already checked by `scanString`, unescaped and validated as UTF-8.
        static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var index = 0
            while index < raw.count {
                let byte = raw[index]
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    index += 1
                    continue
                }
                let kind = raw[index + 1]
                index += 2
                switch kind {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = hexQuad(raw, at: index)
                    index += 4
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard raw.count - index >= 6, raw[index] == UInt8(ascii: "\\"),
                            raw[index + 1] == UInt8(ascii: "u")
                        else { return nil }
                        let low = hexQuad(raw, at: index + 2)
                        guard (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                    guard let unicode = Unicode.Scalar(scalar), let encoded = UTF8.encode(unicode) else { return nil }
                    out.append(contentsOf: encoded)
                default: out.append(kind)  // \" \\ \/
                }
            }
            return out.withUnsafeBufferPointer(ByteText.utf8String)
        }

        private static func hexQuad(_ raw: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 { value = value << 4 | UInt32(ByteText.hexValue(raw[index + offset]) ?? 0) }
            return value
        }
    }
}
