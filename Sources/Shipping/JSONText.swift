/// JSON written straight to bytes, for the sinks' request bodies: Foundation's `JSONSerialization` of nested
/// dictionaries cost a fifth of a millisecond a line, which held a sink under 5,000 lines a second.
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Text that is JSON already (punctuation, a number, a whole JSON value).
    mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func raw(_ json: some Sequence<UInt8>) {
        bytes.append(contentsOf: json)
    }

    /// Text in the code that is JSON already, or needs no escaping inside quotes (an attribute's name).
    mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `text` as a JSON string: quoted, with `"`, `\` and control characters escaped. The runs between escapes go in
    /// whole (a byte at a time, this was the shipping thread's busiest function).
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(utf8: $0) }
    }

    /// UTF-8 text as a JSON string, escaped as `string(_:)` does.
    mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for (index, byte) in utf8.enumerated()
        where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            escape(byte)
            runStart = index + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        bytes.append(UInt8(ascii: "\""))
    }

    /// A string member of an audit line, copied as it is written there (`WrittenString`): quoted, its
    /// escapes already JSON's.
    mutating func writtenString(_ body: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: body)
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        guard byte < 0x20 else {
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte)
            return
        }
        let hex: StaticString = "0123456789abcdef"
        bytes.append(contentsOf: "\\u00".utf8)
        bytes.append(hex.utf8Start[Int(byte >> 4)])
        bytes.append(hex.utf8Start[Int(byte & 0xf)])
    }

    /// `"name":` for a name that needs no escaping (a column or attribute name in the code).
    mutating func name(_ name: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(contentsOf: #"":"#.utf8)
    }

    /// Takes back what was written from `offset` on, and returns it.
    mutating func cut(from offset: Int) -> [UInt8] {
        let tail = Array(bytes[offset...])
        bytes.removeSubrange(offset...)
        return tail
    }
}
