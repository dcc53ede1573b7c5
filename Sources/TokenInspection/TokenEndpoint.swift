import TenantPolicy

/// A token endpoint recognised from a request's host and path (ENTRA-FACTS 1 and 6).
package struct TokenEndpoint: Sendable, Equatable {
    package enum Version: String, Sendable, Equatable {
        case v1
        case v2
    }

    package enum Kind: Sendable, Equatable {
        case entra(EntraCloud, version: Version)
        case nonEntra
    }

    /// What the `{tenant}` segment of an Entra path names.
    package enum TenantSegmentKind: Sendable, Equatable {
        case guid(TenantID)
        case domain(String)
        case common
        case organizations
        case consumers
        /// No segment (non-Entra endpoints) or one that is none of the above.
        case none
    }

    package let host: String
    package let kind: Kind
    /// The raw `{tenant}` segment of an Entra path.
    package let tenantSegment: String?

    /// Read as the most decoding server reads the segment (`FormText.decodedPathSegment`): else `%7B<GUID>%7D` and
    /// `<GUID>%3Bx` named no tenant here, were not refused before they left, and named that tenant at the STS.
    package var tenantSegmentKind: TenantSegmentKind {
        guard let raw = tenantSegment else { return .none }
        let segment = FormText.decodedPathSegment(raw)
        let bytes = segment.utf8
        if bytes.equalsIgnoringASCIICase("common") { return .common }
        if bytes.equalsIgnoringASCIICase("organizations") { return .organizations }
        if bytes.equalsIgnoringASCIICase("consumers") { return .consumers }
        if let id = TenantID(segment) { return .guid(id) }
        let name = segment.lowercased()
        return TenantReference.isDomainName(name) ? .domain(name) : .none
    }

    /// `POST /{tenant}/oauth2/token` (v1), `/{tenant}/oauth2/v2.0/token` (v2) on an Entra host (an alias, regional or
    /// External ID host, see `STSHosts`); `/oauth2/token` on a known non-Entra STS. The query string is ignored;
    /// fixed parts compare case-insensitively.
    package static func match(host: String, path: String) -> TokenEndpoint? {
        TokenEndpointMatcher(host: host).match(path: path)
    }
}

/// Recognises the token endpoints of one host. An intercepted session talks to one host, so what that host is
/// (which cloud's STS, if any) is worked out once per session rather than on every request.
package struct TokenEndpointMatcher: Sendable {
    private enum HostKind {
        case entra(EntraCloud)
        case nonEntra
        case other
    }

    private let host: String
    private let kind: HostKind

    /// `host` is read through `HostName.canonical`: a name that is not a canonical host name matches nothing.
    package init(host: String) {
        guard let name = HostName.canonical(host) else {
            self.host = host
            kind = .other
            return
        }
        self.host = name
        if let cloud = STSHosts.entraCloud(forCanonicalHost: name) {
            kind = .entra(cloud)
        } else {
            kind = STSHosts.knownNonEntra.contains(name) ? .nonEntra : .other
        }
    }

    /// The token endpoint `path` names on this host, or nil (see `TokenEndpoint.match`).
    package func match(path: String) -> TokenEndpoint? {
        var segments = PathSegments(path)
        switch kind {
        case .entra(let cloud):
            guard let tenant = segments.next(), let oauth2 = segments.next(), oauth2.equalsIgnoringASCIICase("oauth2"),
                let third = segments.next()
            else { return nil }
            let tenantSegment = String(Substring(tenant))
            guard let fourth = segments.next() else {
                guard third.equalsIgnoringASCIICase("token") else { return nil }
                return TokenEndpoint(host: host, kind: .entra(cloud, version: .v1), tenantSegment: tenantSegment)
            }
            guard segments.next() == nil, third.equalsIgnoringASCIICase("v2.0"), fourth.equalsIgnoringASCIICase("token")
            else { return nil }
            return TokenEndpoint(host: host, kind: .entra(cloud, version: .v2), tenantSegment: tenantSegment)
        case .nonEntra:
            for expected in STSHosts.nonEntraTokenPaths[host] ?? [] {
                guard let segment = segments.next(), segment.equalsIgnoringASCIICase(expected) else { return nil }
            }
            guard segments.next() == nil else { return nil }
            return TokenEndpoint(host: host, kind: .nonEntra, tenantSegment: nil)
        case .other:
            return nil
        }
    }
}

/// The non-empty `/`-separated segments of a request target's path, up to its query, read one at a time: bytes,
/// not characters (splitting a String walks grapheme clusters), and no array per request.
private struct PathSegments: IteratorProtocol {
    private var rest: Substring.UTF8View

    init(_ target: String) {
        let bytes = target.utf8
        rest = Substring(target).utf8[..<(bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex)]
    }

    mutating func next() -> Substring.UTF8View? {
        guard let start = rest.firstIndex(where: { $0 != UInt8(ascii: "/") }) else { return nil }
        let end = rest[start...].firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        defer { rest = rest[end...] }
        return rest[start..<end]
    }
}

extension Collection<UInt8> {
    /// Whether the UTF-8 text equals `lowercase` (itself lower-case ASCII) when ASCII letters are compared without
    /// case. (Inlinable: called from other modules on `String.UTF8View` and buffers, it ran unspecialized, through
    /// witness tables, once per header name and hop-by-hop name; always inlined, so most calls end at the length
    /// check without a call.)
    @inlinable @inline(__always)
    package func equalsIgnoringASCIICase(_ lowercase: StaticString) -> Bool {
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
