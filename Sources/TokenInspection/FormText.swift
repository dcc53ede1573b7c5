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

    /// At most `limit` decoded bytes.
    static func decodedBytes(_ bytes: some Collection<UInt8>, limit: Int) -> [UInt8] {
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
                out.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index = next
            }
        }
        return out
    }
}
