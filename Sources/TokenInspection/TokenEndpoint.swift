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
        let name = host.lowercased()
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let segments = pathOnly.split(separator: "/", omittingEmptySubsequences: true)
        if let cloud = STSHosts.entraCloud(forHost: name) {
            guard segments.count >= 3, segments[1].lowercased() == "oauth2" else { return nil }
            let tenant = String(segments[0])
            if segments.count == 3, segments[2].lowercased() == "token" {
                return TokenEndpoint(host: name, kind: .entra(cloud, version: .v1), tenantSegment: tenant)
            }
            if segments.count == 4, segments[2].lowercased() == "v2.0", segments[3].lowercased() == "token" {
                return TokenEndpoint(host: name, kind: .entra(cloud, version: .v2), tenantSegment: tenant)
            }
            return nil
        }
        if STSHosts.isKnownNonEntraSTS(name), segments.count == 2, segments[0].lowercased() == "oauth2",
            segments[1].lowercased() == "token"
        {
            return TokenEndpoint(host: name, kind: .nonEntra, tenantSegment: nil)
        }
        return nil
    }
}
