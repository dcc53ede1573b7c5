import TenantPolicy

/// Entra object and application IDs (users, groups, applications) in one spelling, so that a target and the ID it
/// names match however either was written. Entra reads a GUID as .NET's `Guid.Parse` does (hyphenated, braced, in
/// parentheses, or 32 bare hex digits, in any case, around white space); review 54 blocked an application written
/// `{GUID}` in the settings, and reached Entra with a `client_id` spelled without hyphens, and neither matched. What
/// is not a GUID (the seed's `g1`) is compared without case and surrounding white space.
package enum ObjectID {
    /// The lowercase hyphenated form of a GUID written in any of those spellings, around any Unicode white space (as
    /// .NET trims: `\v`, no-break space and the like too, review 55); nil for anything else.
    package static func canonical(_ text: some StringProtocol) -> String? {
        var bytes = Array(String(text).trimmingWhitespace().utf8)
        if bytes.count == 38,
            (bytes.first, bytes.last) == (UInt8(ascii: "{"), UInt8(ascii: "}"))
                || (bytes.first, bytes.last) == (UInt8(ascii: "("), UInt8(ascii: ")"))
        {
            bytes = Array(bytes.dropFirst().dropLast())
        }
        if bytes.count == 32, !bytes.contains(UInt8(ascii: "-")) {
            for position in [20, 16, 12, 8] { bytes.insert(UInt8(ascii: "-"), at: position) }
        }
        return TenantID(bytes: bytes)?.description
    }

    /// The key an ID in a policy or a token is matched by: its canonical form when it is a GUID, else the text
    /// lowercased without surrounding white space.
    package static func key(_ text: some StringProtocol) -> String {
        canonical(text) ?? String(text).trimmingWhitespace().lowercased()
    }
}
