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
            let name = decodedName(segment.split(separator: "?", maxSplits: 1).first ?? "")
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

    /// The organisation's segment as the most decoding server reads it: every escape decoded (the canonical target
    /// keeps reserved ones, such as `%20` and `%3B`, encoded), then cut at `;`. Else `fabrikamorg%20` and
    /// `fabrikamorg%3Bx` named no organisation here and reached FabrikamOrg there.
    private static func decodedName(_ segment: Substring) -> String {
        var bytes: [UInt8] = []
        var index = segment.utf8.startIndex
        let utf8 = segment.utf8
        while index < utf8.endIndex {
            var byte = utf8[index]
            index = utf8.index(after: index)
            if byte == UInt8(ascii: "%"), utf8.distance(from: index, to: utf8.endIndex) >= 2,
                let high = ByteText.hexValue(utf8[index]),
                let low = ByteText.hexValue(utf8[utf8.index(after: index)])
            {
                byte = high << 4 | low
                index = utf8.index(index, offsetBy: 2)
            }
            guard byte != UInt8(ascii: ";") else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
