/// `application/x-www-form-urlencoded` text decoding: `%XX` and `+`; a malformed escape stays as written. Shared
/// by the token carriers of STS answers and the credentials of resource requests.
enum FormText {
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
