/// The one spelling of a host name that every host comparison uses.
///
/// A client may name the same host as `LOGIN.microsoftonline.com`, `login.microsoftonline.com.` or
/// `login.microsoftonline.com`; a check that compares raw spellings can be walked around with any of them (the
/// CONNECT line, the TLS server name and an absolute-form request target are all client-chosen text). Anything that
/// is not plainly a DNS name or an IP literal is refused rather than guessed at, so that no two readers can disagree
/// on what host it names.
package enum HostName {
    /// Longest DNS name without its trailing dot (RFC 1035 2.3.4: 255 octets on the wire).
    private static let maximumLength = 253
    /// Longest DNS label (RFC 1035 2.3.4).
    private static let maximumLabelLength = 63

    /// `raw` lower-cased, without one trailing dot and without IPv6 brackets, or nil when it is not a DNS name of
    /// `[a-z0-9-_]` labels, a dotted IPv4 literal or an IPv6 literal.
    ///
    /// A name whose last label is numeric must be a strict dotted IPv4 literal (four decimal parts, no leading
    /// zeros): resolvers read `127.1` or `0x7f.1` or `010.0.0.1` as addresses, and no top-level domain is numeric.
    /// IPv6 zone identifiers (`%eth0`) are refused: they name an interface, not a host.
    package static func canonical(_ raw: some StringProtocol) -> String? {
        // One non-generic pass over contiguous bytes; a generic walk across the module boundary is not specialised.
        raw.utf8.withContiguousStorageIfAvailable(canonical(bytes:))
            ?? Array(raw.utf8).withUnsafeBufferPointer(canonical(bytes:))
    }

    /// `canonical(_:)` over the UTF-8 bytes of a name.
    static func canonical(bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard let last = bytes.last else { return nil }
        if bytes[0] == UInt8(ascii: "[") {
            guard last == UInt8(ascii: "]"), bytes.count > 2 else { return nil }
            return ipv6(UnsafeBufferPointer(rebasing: bytes[1..<(bytes.count - 1)]))
        }
        if bytes.contains(UInt8(ascii: ":")) { return ipv6(bytes) }
        let name = last == UInt8(ascii: ".") ? UnsafeBufferPointer(rebasing: bytes.dropLast()) : bytes
        guard !name.isEmpty, name.count <= maximumLength else { return nil }
        var labelStart = 0
        for index in name.indices {
            switch name[index] {
            case UInt8(ascii: "."):
                guard index > labelStart, index - labelStart <= maximumLabelLength else { return nil }
                labelStart = index + 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                continue
            default:
                return nil
            }
        }
        guard name.count > labelStart, name.count - labelStart <= maximumLabelLength else { return nil }
        if isNumeric(UnsafeBufferPointer(rebasing: name[labelStart...])), !isIPv4(name) { return nil }
        return lowercased(name)
    }

    /// Whether a label reads as a number to `inet_aton`: decimal digits, or `0x` and hexadecimal digits.
    private static func isNumeric(_ label: UnsafeBufferPointer<UInt8>) -> Bool {
        if label.count >= 2, label[0] == UInt8(ascii: "0"), label[1] | 0x20 == UInt8(ascii: "x") {
            return label.dropFirst(2).allSatisfy { ByteText.hexValue($0) != nil }
        }
        return label.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// Whether the bytes are exactly four decimal parts of 0...255, without leading zeros (which some readers take
    /// as octal).
    private static func isIPv4(_ bytes: some Collection<UInt8>) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return false }
                parts += 1
                value = 0
                digits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), !(digits == 1 && value == 0) else {
                return false
            }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard value <= 255 else { return false }
        }
        return digits > 0 && parts == 3
    }

    /// The lower-cased text of an IPv6 literal (RFC 4291 2.2: eight groups of up to four hexadecimal digits, one
    /// `::`, an optional dotted IPv4 tail), or nil.
    private static func ipv6(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let colon = UInt8(ascii: ":")
        var groups = 0
        var compressed = false
        var index = 0
        if bytes.count >= 2, bytes[0] == colon, bytes[1] == colon {
            compressed = true
            index = 2
        }
        while index < bytes.count {
            let start = index
            while index < bytes.count, ByteText.hexValue(bytes[index]) != nil { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                // A dotted IPv4 tail stands for the last two groups.
                guard isIPv4(bytes[start...]) else { return nil }
                groups += 2
                break
            }
            guard index - start >= 1, index - start <= 4, groups < 8 else { return nil }
            groups += 1
            if index == bytes.count { break }
            guard bytes[index] == colon else { return nil }
            index += 1
            if index < bytes.count, bytes[index] == colon {
                guard !compressed else { return nil }
                compressed = true
                index += 1
            } else if index == bytes.count {
                return nil
            }
        }
        guard compressed ? groups <= 7 : groups == 8 else { return nil }
        return lowercased(bytes)
    }

    /// The ASCII bytes as a string with letters lower-cased, written straight into the string's storage.
    private static func lowercased(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count) { buffer in
            for (index, byte) in bytes.enumerated() {
                buffer[index] = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            }
            return bytes.count
        }
    }
}
