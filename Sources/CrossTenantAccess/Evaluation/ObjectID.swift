import TenantPolicy

/// Entra object and application IDs (users, groups, applications) in one spelling, so that a target and the ID it
/// names match however either was written. Entra reads a GUID as .NET's `Guid.Parse` does (hyphenated, braced, in
/// parentheses, or 32 bare hex digits, in any case, around white space); review 54 blocked an application written
/// `{GUID}` in the settings, and reached Entra with a `client_id` spelled without hyphens, and neither matched. What
/// is not a GUID (the seed's `g1`) is compared without case and surrounding white space.
package enum ObjectID {
    /// The key an ID is matched by: its lowercase hyphenated form when it is a GUID in any of those spellings.
    package static func key(_ text: some StringProtocol) -> String {
        let trimmed = Array(String(text).utf8.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        var bytes = trimmed
        if bytes.count == 38,
            (bytes.first, bytes.last) == (UInt8(ascii: "{"), UInt8(ascii: "}"))
                || (bytes.first, bytes.last) == (UInt8(ascii: "("), UInt8(ascii: ")"))
        {
            bytes = Array(bytes.dropFirst().dropLast())
        }
        if bytes.count == 32, !bytes.contains(UInt8(ascii: "-")) {
            for position in [20, 16, 12, 8] { bytes.insert(UInt8(ascii: "-"), at: position) }
        }
        return TenantID(bytes: bytes)?.description ?? String(decoding: trimmed, as: UTF8.self).lowercased()
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }
}
