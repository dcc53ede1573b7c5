import TenantPolicy

/// The Azure DevOps organisation a request goes to, which a proxy sees even though Azure DevOps's own tokens name
/// no Entra tenant: `dev.azure.com/{org}/…` (and the service hosts `*.dev.azure.com/{org}/…`), `{org}.visualstudio.com`
/// (and `{org}.{service}.visualstudio.com`).
package enum AzureDevOpsOrganization {
    /// `host` canonical, `path` the origin-form target. Nil when the request names no organisation.
    package static func of(host: String, path: String) -> String? {
        if host == "dev.azure.com" || host.hasSuffix(".dev.azure.com") {
            // As the most decoding server reads it: `fabrikamorg%20` and `fabrikamorg%3Bx` name FabrikamOrg there.
            // ASP.NET takes a leading `(S(…))` segment for a cookieless session and routes what follows (review 64
            // F1: `/(S(x))/northwindorg/…` reached NorthwindOrg with no organisation read). Every leading segment
            // that opens with `(` is passed over: one that ASP.NET keeps names no organisation there either.
            let target =
                path.utf8.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)
                .first ?? Substring("").utf8[...]
            let name =
                target.split(separator: UInt8(ascii: "/")).lazy
                .map { FormText.decodedPathSegment(Substring($0)) }
                .first { !$0.hasPrefix("(") } ?? ""
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
