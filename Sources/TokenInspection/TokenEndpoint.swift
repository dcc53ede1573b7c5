import TenantPolicy

/// A token endpoint recognised from a request's host and path (ENTRA-FACTS 1 and 6).
public struct TokenEndpoint: Sendable, Equatable {
    public enum Version: String, Sendable, Equatable {
        case v1
        case v2
    }

    public enum Kind: Sendable, Equatable {
        case entra(EntraCloud, version: Version)
        case nonEntra
    }

    /// What the `{tenant}` segment of an Entra path names.
    public enum TenantSegmentKind: Sendable, Equatable {
        case guid(TenantID)
        case domain(String)
        case common
        case organizations
        case consumers
        /// No segment (non-Entra endpoints) or one that is none of the above.
        case none
    }

    public let host: String
    public let kind: Kind
    /// The raw `{tenant}` segment of an Entra path.
    public let tenantSegment: String?

    public var tenantSegmentKind: TenantSegmentKind {
        guard let segment = tenantSegment?.lowercased() else { return .none }
        switch segment {
        case "common": return .common
        case "organizations": return .organizations
        case "consumers": return .consumers
        default:
            if let id = TenantID(segment) { return .guid(id) }
            return TenantReference.isDomainName(segment) ? .domain(segment) : .none
        }
    }

    /// `POST /{tenant}/oauth2/token` (v1), `/{tenant}/oauth2/v2.0/token` (v2) on an Entra host; `/oauth2/token`
    /// on a known non-Entra STS. The query string is ignored; fixed parts compare case-insensitively.
    public static func match(host: String, path: String) -> TokenEndpoint? {
        TokenEndpointMatcher(host: host).match(path: path)
    }
}

/// Recognises the token endpoints of one host. An intercepted session talks to one host, so what that host is
/// (which cloud's STS, if any) is worked out once per session rather than on every request.
public struct TokenEndpointMatcher: Sendable {
    private enum HostKind {
        case entra(EntraCloud)
        case nonEntra
        case other
    }

    private let host: String
    private let kind: HostKind

    public init(host: String) {
        self.host = host.lowercasedASCIIIfNeeded()
        if let cloud = STSHosts.entraCloud(forHost: self.host) {
            kind = .entra(cloud)
        } else {
            kind = STSHosts.isKnownNonEntraSTS(self.host) ? .nonEntra : .other
        }
    }

    /// The token endpoint `path` names on this host, or nil (see `TokenEndpoint.match`).
    public func match(path: String) -> TokenEndpoint? {
        if case .other = kind { return nil }
        // Bytes, not characters: splitting a String walks grapheme clusters, which cost more than the rest here.
        let bytes = path.utf8
        let pathOnly = bytes[..<(bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex)]
        let segments = pathOnly.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
        switch kind {
        case .entra(let cloud):
            guard segments.count >= 3, segments[1].equalsIgnoringASCIICase("oauth2") else { return nil }
            let tenant = String(Substring(segments[0]))
            if segments.count == 3, segments[2].equalsIgnoringASCIICase("token") {
                return TokenEndpoint(host: host, kind: .entra(cloud, version: .v1), tenantSegment: tenant)
            }
            if segments.count == 4, segments[2].equalsIgnoringASCIICase("v2.0"), segments[3].equalsIgnoringASCIICase("token") {
                return TokenEndpoint(host: host, kind: .entra(cloud, version: .v2), tenantSegment: tenant)
            }
            return nil
        case .nonEntra:
            guard segments.count == 2, segments[0].equalsIgnoringASCIICase("oauth2"),
                segments[1].equalsIgnoringASCIICase("token")
            else { return nil }
            return TokenEndpoint(host: host, kind: .nonEntra, tenantSegment: nil)
        case .other:
            return nil
        }
    }
}

extension Collection<UInt8> {
    /// Whether the UTF-8 text equals `lowercase` (itself lower-case ASCII) when ASCII letters are compared without
    /// case.
    func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
        guard count == lowercase.utf8CodeUnitCount else { return false }
        var index = 0
        for byte in self {
            let folded = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard folded == lowercase.utf8Start[index] else { return false }
            index += 1
        }
        return true
    }
}

extension String {
    /// The text with ASCII letters lower-cased; the text itself, without a copy, when it has no upper-case ASCII.
    func lowercasedASCIIIfNeeded() -> String {
        utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? lowercased() : self
    }
}
