import TenantPolicy

/// The Azure DevOps organisation a request goes to, which a proxy sees even though Azure DevOps's own tokens name
/// no Entra tenant: `dev.azure.com/{org}/…` (and the service hosts `*.dev.azure.com/{org}/…`), `{org}.visualstudio.com`
/// (and `{org}.{service}.visualstudio.com`).
package enum AzureDevOpsOrganization {
    /// `host` canonical, `path` the origin-form target. Nil when the request names no organisation.
    package static func of(host: String, path: String) -> String? {
        if host == "dev.azure.com" || host.hasSuffix(".dev.azure.com") {
            let segment =
                path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), maxSplits: 1).first
                .map { Substring($0) } ?? ""
            // As the most decoding server reads it: `fabrikamorg%20` and `fabrikamorg%3Bx` name FabrikamOrg there.
            let name = FormText.decodedPathSegment(segment.split(separator: "?", maxSplits: 1).first ?? "")
            // `_apis`, `_signin` & co. are the service's own, not an organisation's.
            guard !name.hasPrefix("_") else { return nil }
            return AzureDevOpsOrganizationName.canonical(name)
        }
        if host.hasSuffix(".visualstudio.com"), !STSHosts.isKnownNonEntraSTS(host) {
            let labels = host.split(separator: ".")
            guard labels.count == 3 || labels.count == 4 else { return nil }
            return AzureDevOpsOrganizationName.canonical(labels[0])
        }
        return nil
    }

}
