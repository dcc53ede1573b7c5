/// `application/x-www-form-urlencoded` text decoding: `%XX` and `+`; a malformed escape stays as written. Shared
/// by the token carriers of STS answers, the credentials of resource requests and the admin console's queries and
/// forms.
package enum FormText {
    /// Every field of a query or a form body, names and values decoded, the first of a repeated name kept. Any text
    /// is read: Foundation's `URLComponents` stopped the process (fatalError) at a malformed escape such as `%` or
    /// `%zz`, which anyone who reaches the admin listener could send.
    package static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.utf8.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = decoded(parts[0], limit: .max)
            if fields[name] == nil { fields[name] = parts.count == 2 ? decoded(parts[1], limit: .max) : "" }
        }
        return fields
    }

    static func decoded(_ bytes: some Collection<UInt8>, limit: Int) -> String {
        String(decoding: decodedBytes(bytes, limit: limit), as: UTF8.self)
    }

    /// `%uXXXX` escapes (IIS's and System.Web's, not the form standard's) of ASCII characters replaced by the
    /// character; everything else as written, for `decodedBytes` to read on.
    static func decodedUnicodeEscapes(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let bytes = Array(bytes)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if let character = asciiEscape(in: bytes, at: index) {
                out.append(character)
                index += 6
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    /// The ASCII character a `%u00XX` at `index` stands for, if one is there; with `lead` `\`, JSON's `\u00XX`.
    static func asciiEscape(in bytes: [UInt8], at index: Int, lead: UInt8 = UInt8(ascii: "%")) -> UInt8? {
        guard index + 5 < bytes.count, bytes[index] == lead, bytes[index + 1] | 0x20 == UInt8(ascii: "u")
        else { return nil }
        let digits = bytes[(index + 2)...(index + 5)].compactMap(ByteText.hexValue)
        guard digits.count == 4, digits[0] == 0, digits[1] == 0, digits[2] < 8 else { return nil }
        return digits[2] << 4 | digits[3]
    }

    /// A URL path segment as the most decoding server reads it: every escape decoded (a canonical target keeps
    /// reserved ones, such as `%20`, `%3B` and `%7B`, encoded), then cut at `;`. What names a place on the server (a
    /// tenant, an Azure DevOps organisation) is read this way, so that `<name>%3Bx` or `%7B<GUID>%7D` cannot name
    /// nothing here and that place there.
    static func decodedPathSegment(_ segment: some StringProtocol) -> String {
        guard segment.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: ";") }) else {
            return String(segment)
        }
        let decoded = decodedBytes(segment.utf8, limit: .max, plusIsSpace: false)
        return String(decoding: decoded.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
    }

    /// At most `limit` decoded bytes; `+` is a space in a form, itself in a URL's path (`plusIsSpace` false).
    static func decodedBytes(_ bytes: some Collection<UInt8>, limit: Int, plusIsSpace: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        var index = bytes.startIndex
        while index != bytes.endIndex, out.count < limit {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            if byte == UInt8(ascii: "%"), next != bytes.endIndex, bytes.index(after: next) != bytes.endIndex,
                let high = ByteText.hexValue(bytes[next]), let low = ByteText.hexValue(bytes[bytes.index(after: next)])
            {
                out.append(high << 4 | low)
                index = bytes.index(after: bytes.index(after: next))
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = next
            }
        }
        return out
    }
}
