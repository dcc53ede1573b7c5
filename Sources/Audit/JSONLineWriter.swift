import Plumbing

/// Builds one JSON object as bytes with correct string escaping (RFC 8259 section 7).
struct JSONLineWriter {
    private var bytes: [UInt8]
    private var first = true

    /// A writer that appends the object after `bytes` (earlier lines of a batch, or nothing).
    init(continuing bytes: consuming [UInt8] = []) {
        self.bytes = bytes
    }

    mutating func begin() {
        if bytes.isEmpty { bytes.reserveCapacity(512) }
        bytes.append(UInt8(ascii: "{"))
    }

    mutating func field(_ name: StaticString, string value: String?) {
        key(name)
        if let value { appendString(value) } else { bytes.append(contentsOf: "null".utf8) }
    }

    mutating func field(_ name: StaticString, strings values: some Sequence<String>) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            appendString(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ name: StaticString, number value: Int) {
        key(name)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A string value whose bytes `write` appends itself and which need no escaping (timestamps, GUIDs), so no
    /// String is built for it.
    mutating func field(_ name: StaticString, quotedASCII write: (inout [UInt8]) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "\""))
        write(&bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Closes the object and the line; returns everything written, earlier lines included.
    consuming func end() -> [UInt8] {
        bytes.append(contentsOf: "}\n".utf8)
        return bytes
    }

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            // Nearly every value needs no escaping and is copied whole.
            guard utf8.contains(where: Self.needsEscape) else {
                bytes.append(contentsOf: utf8)
                return
            }
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                index += 1
                guard Self.needsEscape(byte) else {
                    bytes.append(byte)
                    continue
                }
                if let (scalar, length) = InvisibleControls.sequence(in: utf8, at: index - 1) {
                    bytes.append(contentsOf: "\\u".utf8)
                    for shift in [12, 8, 4, 0] { bytes.append(Self.hexDigit(UInt8((scalar >> shift) & 0xF))) }
                    index += length - 1
                    continue
                }
                guard byte < 0x80 else {
                    bytes.append(byte)
                    continue
                }
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
                case UInt8(ascii: "\n"): bytes.append(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): bytes.append(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(Self.hexDigit(byte >> 4))
                    bytes.append(Self.hexDigit(byte & 0xF))
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// JSON's own escapes, and the lead bytes of `InvisibleControls` (rare: their text takes the slow path), written
    /// `\uXXXX` so that a client's `client_id` cannot drive a terminal reading the log (review 57).
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
            || InvisibleControls.mayStart(byte)
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
