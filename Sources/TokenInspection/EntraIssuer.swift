import TenantPolicy

/// Recognises Entra issuers (SPEC 3): v1 `https://sts.windows.net/<tid>/` (China's `sts.chinacloudapi.cn`), v2
/// `https://<entra host>/<tid>/v2.0`,
/// including Entra External ID's `https://<sub-or-tid>.ciamlogin.com/<tid>/v2.0` (ENTRA-FACTS 6).
package enum EntraIssuer {
    package struct Parsed: Sendable, Equatable {
        package let tenant: TenantID
        package let cloud: EntraCloud
        package let version: TokenEndpoint.Version
    }

    /// v1 issuers' hosts: the global cloud's, and China's (21Vianet issues v1 tokens as `https://sts.chinacloudapi.cn/
    /// <tid>/`; review 54 found its Graph tokens taken for no Entra token at all).
    private static let v1Hosts: [String: EntraCloud] = ["sts.windows.net": .global, "sts.chinacloudapi.cn": .china]

    package static func parse(_ issuer: String) -> Parsed? {
        // Bytes, not characters: splitting a String walks grapheme clusters.
        let bytes = issuer.utf8
        guard bytes.starts(with: "https://".utf8) else { return nil }
        let parts = bytes.dropFirst("https://".utf8.count).split(
            separator: UInt8(ascii: "/"),
            omittingEmptySubsequences: false
        )
        guard parts.count >= 2 else { return nil }
        guard let host = HostName.canonical(Substring(parts[0])) else { return nil }
        if let cloud = v1Hosts[host] {
            // v1: exactly https://<v1 host>/<tid>/
            guard parts.count == 3, parts[2].isEmpty, let tenant = TenantID(bytes: parts[1]) else { return nil }
            return Parsed(tenant: tenant, cloud: cloud, version: .v1)
        }
        guard let cloud = STSHosts.issuerCloud(forCanonicalHost: host) else { return nil }
        // v2: https://<host>/<tid>/v2.0 (some issuers of other clouds end in a slash)
        guard parts.count >= 3, parts[2].elementsEqual("v2.0".utf8),
            parts.count == 3 || (parts.count == 4 && parts[3].isEmpty),
            let tenant = TenantID(bytes: parts[1])
        else { return nil }
        return Parsed(tenant: tenant, cloud: cloud, version: .v2)
    }
}
