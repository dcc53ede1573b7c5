/// Which hosts are security token services, which are never intercepted, and which TenantGate intercepts (SPEC 3).
public enum STSHosts {
    /// Hosts whose clients pin or present device certificates: interception would break them (ENTRA-FACTS 3).
    public static let neverIntercepted: Set<String> = ["device.login.microsoftonline.com", "enterpriseregistration.windows.net"]

    /// STSs that issue their own, non-Entra tokens (SPEC 2.3; ENTRA-FACTS 6).
    public static let knownNonEntra: Set<String> = ["app.vssps.visualstudio.com"]

    private static let cloudByHost: [String: EntraCloud] = {
        var map: [String: EntraCloud] = [:]
        for cloud in EntraCloud.allCases {
            for host in cloud.loginHosts { map[host] = cloud }
        }
        return map
    }()

    /// The cloud whose Entra STS answers at `host` (lowercase, no port), or nil.
    public static func entraCloud(forHost host: String) -> EntraCloud? {
        cloudByHost[host.lowercasedASCIIIfNeeded()]
    }

    public static func isKnownNonEntraSTS(_ host: String) -> Bool { knownNonEntra.contains(host.lowercasedASCIIIfNeeded()) }

    /// Entra STS hosts of every cloud, known non-Entra STSs, and configured resource hosts; never the excluded ones.
    public static func shouldIntercept(_ host: String, extraHosts: Set<String>) -> Bool {
        let name = host.lowercased()
        if neverIntercepted.contains(name) { return false }
        return cloudByHost[name] != nil || knownNonEntra.contains(name) || extraHosts.contains(name)
    }
}
