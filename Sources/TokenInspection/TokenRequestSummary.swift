/// The non-secret fields of a token request's form body, for decisions and the audit line.
///
/// Secrets (`client_secret`, assertions, codes, refresh tokens, passwords, PKCE verifiers) are skipped while
/// parsing and never stored, so no later code can log them by mistake.
public struct TokenRequestSummary: Sendable, Equatable {
    public var clientID: String?
    public var grantType: String?
    public var scope: String?
    public var resource: String?

    /// Field names whose values are secrets and are never kept.
    public static let secretFieldNames: Set<String> = [
        "client_secret", "client_assertion", "assertion", "code", "refresh_token", "password", "code_verifier",
        "device_code", "id_token", "access_token",
    ]

    /// Longest value kept; anything longer is cut (values are for display only).
    private static let maxValueLength = 512
    /// Fields examined at most; a hostile body with more is read no further.
    private static let maxFields = 256

    public init(clientID: String? = nil, grantType: String? = nil, scope: String? = nil, resource: String? = nil) {
        self.clientID = clientID
        self.grantType = grantType
        self.scope = scope
        self.resource = resource
    }

    /// Parses `application/x-www-form-urlencoded` (percent-decoding, `+` as space).
    public init(formBody: some Collection<UInt8>) {
        self.init()
        var examined = 0
        for pair in formBody.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            examined += 1
            if examined > Self.maxFields { break }
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let rawName = parts.first, let name = Self.decode(rawName) else { continue }
            switch name {
            case "client_id": clientID = parts.count > 1 ? Self.decode(parts[1]) : nil
            case "grant_type": grantType = parts.count > 1 ? Self.decode(parts[1]) : nil
            case "scope": scope = parts.count > 1 ? Self.decode(parts[1]) : nil
            case "resource": resource = parts.count > 1 ? Self.decode(parts[1]) : nil
            default: continue
            }
        }
    }

    private static func decode(_ bytes: some Collection<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(min(bytes.count, maxValueLength))
        var iterator = bytes.makeIterator()
        while let byte = iterator.next(), out.count < maxValueLength {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                out.append(high << 4 | low)
            default: out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
