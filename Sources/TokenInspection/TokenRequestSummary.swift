/// The non-secret fields of a token request's form body, for decisions and the audit line.
///
/// Secrets (`client_secret`, assertions, codes, refresh tokens, passwords, PKCE verifiers) are skipped while
/// parsing and never stored, so no later code can log them by mistake.
package struct TokenRequestSummary: Sendable, Equatable {
    package var clientID: String?
    package var grantType: String?
    package var scope: String?
    package var resource: String?
    /// `client_id` or `grant_type` when the body carries that field more than once (names compared after decoding,
    /// in any letter case).
    /// Readers disagree on which copy wins (first, last, or an error), so a decision on one copy may not be the
    /// STS's: a caller refuses such a body.
    package private(set) var repeatedField: String?
    /// Whether the body has more fields than are examined (256, empty pairs aside) and was not read to its end; a
    /// caller refuses it, since a field after the limit could repeat one that was read.
    package private(set) var truncated = false

    /// Field names whose values are secrets and are never kept.
    package static let secretFieldNames: Set<String> = [
        "client_secret", "client_assertion", "assertion", "code", "refresh_token", "password", "code_verifier",
        "device_code", "id_token", "access_token",
    ]

    /// Longest value kept; anything longer is cut (values are for display only).
    private static let maxValueLength = 512
    /// Fields examined at most; a hostile body with more is read no further and marked `truncated`.
    private static let maxFields = 256

    package init(clientID: String? = nil, grantType: String? = nil, scope: String? = nil, resource: String? = nil) {
        self.clientID = clientID
        self.grantType = grantType
        self.scope = scope
        self.resource = resource
    }

    /// Parses `application/x-www-form-urlencoded` (percent-decoding, `+` as space).
    package init(formBody: some Collection<UInt8>) {
        // One non-generic pass over contiguous bytes: a generic walk across the module boundary is not
        // specialised, and cost more than the rest of the request's decision.
        self =
            formBody.withContiguousStorageIfAvailable(Self.parse) ?? Array(formBody).withUnsafeBufferPointer(Self.parse)
    }

    /// Raw values are bits, so that the fields seen are one integer rather than a set allocated per body.
    private enum Field: UInt8 {
        case clientID = 1
        case grantType = 2
        case scope = 4
        case resource = 8

        /// The name reported in `repeatedField` for the fields a decision rests on; nil for display-only fields.
        var repeatableName: String? {
            switch self {
            case .clientID: "client_id"
            case .grantType: "grant_type"
            case .scope, .resource: nil
            }
        }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Self {
        var summary = Self()
        var seen: UInt8 = 0
        var start = 0
        var examined = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                guard examined < maxFields else {
                    summary.truncated = true
                    break
                }
                examined += 1
                var equals = start
                while equals < end, bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                if let field = field(named: UnsafeBufferPointer(rebasing: bytes[start..<equals])) {
                    if seen & field.rawValue != 0, summary.repeatedField == nil, let name = field.repeatableName {
                        summary.repeatedField = name
                    }
                    seen |= field.rawValue
                    let value = equals < end ? decode(UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<end])) : nil
                    switch field {
                    case .clientID: summary.clientID = value
                    case .grantType: summary.grantType = value
                    case .scope: summary.scope = value
                    case .resource: summary.resource = value
                    }
                }
            }
            start = end + 1
        }
        return summary
    }

    /// The kept field a name stands for; names are compared as bytes unless they are encoded.
    private static func field(named name: UnsafeBufferPointer<UInt8>) -> Field? {
        if name.contains(UInt8(ascii: "%")) || name.contains(UInt8(ascii: "+")) {
            guard let decoded = decode(name) else { return nil }
            return field(named: decoded)
        }
        guard name.count >= 5, name.count <= 10 else { return nil }
        return field(named: String(decoding: name, as: UTF8.self))
    }

    /// Names in any letter case: Entra's form reader (ASP.NET's) folds them, so `Client_Id` beside `client_id` is a
    /// second copy, not another field (review 54 saw the first judged while the STS could read the second).
    private static func field(named name: String) -> Field? {
        switch name.lowercased() {
        case "client_id": .clientID
        case "grant_type": .grantType
        case "scope": .scope
        case "resource": .resource
        default: nil
        }
    }

    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, maxValueLength))
        var index = 0
        while index < bytes.count, out.count < maxValueLength {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 1 < bytes.count, let high = ByteText.hexValue(bytes[index]),
                    let low = ByteText.hexValue(bytes[index + 1])
                else { return nil }
                out.append(high << 4 | low)
                index += 2
            default: out.append(byte)
            }
        }
        if index < bytes.count { dropIncompleteLastCharacter(&out) }
        return out.withUnsafeBufferPointer(ByteText.utf8String)
    }

    /// A value cut at the length limit may end inside a multi-byte UTF-8 character: that partial character goes,
    /// so the cut value stays readable instead of becoming no value at all (found by fuzzing).
    private static func dropIncompleteLastCharacter(_ bytes: inout [UInt8]) {
        guard let lead = bytes.lastIndex(where: { $0 & 0xC0 != 0x80 }), bytes[lead] >= 0xC0 else { return }
        let needed = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : 2
        if bytes.count - lead < needed { bytes.removeSubrange(lead...) }
    }
}
