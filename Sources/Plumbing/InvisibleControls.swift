/// Characters that change what a reader sees without being seen: C1 controls (U+0080–U+009F, which some terminals act
/// on), the line and paragraph separators, and the bidirectional controls (which reorder a line: "Trojan Source").
/// Text a client or a policy chose is written with them escaped wherever an administrator reads it: the audit log,
/// syslog, the reports, the command line's output (reviews 57 and 58).
package enum InvisibleControls {
    package static func contains(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x80...0x9F, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: true
        default: false
        }
    }

    /// The one starting at `index` of valid UTF-8, with its length in bytes.
    package static func sequence(in utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (scalar: UInt32, length: Int)? {
        let remaining = utf8.count - index
        guard remaining >= 2 else { return nil }
        let (first, second) = (utf8[index], utf8[index + 1])
        if first == 0xC2, (0x80...0x9F).contains(second) { return (UInt32(second), 2) }
        if first == 0xD8, second == 0x9C { return (0x061C, 2) }
        guard first == 0xE2, remaining >= 3 else { return nil }
        let scalar = UInt32(first & 0x0F) << 12 | UInt32(second & 0x3F) << 6 | UInt32(utf8[index + 2] & 0x3F)
        guard let decoded = Unicode.Scalar(scalar), contains(decoded) else { return nil }
        return (scalar, 3)
    }

    /// Whether `byte` may start one (a fast path's test: text without such a byte holds none).
    package static func mayStart(_ byte: UInt8) -> Bool { byte == 0xC2 || byte == 0xD8 || byte == 0xE2 }

    /// A JSON document (Foundation's, which writes them as they are) with each written `\uXXXX`. They occur only
    /// inside strings, so the document means the same.
    package static func escapedInJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: contains) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard contains(scalar) else {
                out.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
        }
        return String(out)
    }
}
