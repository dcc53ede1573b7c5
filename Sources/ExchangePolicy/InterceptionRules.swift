import TenantPolicy
import TokenInspection

/// The settings that decide which hosts TenantGate terminates TLS for, and which ports a CONNECT may reach.
package struct InterceptionRules: Sendable {
    /// Ports CONNECT may reach (SPEC 5: 443 only unless configured).
    package var allowedConnectPorts: Set<Int>
    /// Resource hosts intercepted beside the STS hosts.
    package var extraInterceptedHosts: Set<String>
    /// When set, Microsoft's login hosts are intercepted to inject the TRv2 header.
    package var tenantRestrictionsV2: TenantRestrictionsV2?
    /// Hosts intercepted with every request judged (`--resource-host`).
    package var resourceHosts: Set<HostPattern>

    package init(
        allowedConnectPorts: Set<Int>,
        extraInterceptedHosts: Set<String>,
        tenantRestrictionsV2: TenantRestrictionsV2?,
        resourceHosts: Set<HostPattern> = []
    ) {
        self.allowedConnectPorts = allowedConnectPorts
        self.extraInterceptedHosts = extraInterceptedHosts
        self.tenantRestrictionsV2 = tenantRestrictionsV2
        self.resourceHosts = resourceHosts
    }

    /// The resource host pattern `host` (canonical) falls under, when every request on it is judged: a configured
    /// resource host that is not an STS (an STS's requests are judged as token exchanges) and not one TenantGate
    /// never intercepts. The most specific pattern names it (an exact name before a `*.` one).
    package func resourcePattern(host: String) -> HostPattern? {
        guard !resourceHosts.isEmpty, !STSHosts.neverIntercepted.contains(host),
            STSHosts.entraCloud(forHost: host) == nil, !STSHosts.isKnownNonEntraSTS(host)
        else { return nil }
        if resourceHosts.contains(.exact(host)) { return .exact(host) }
        return resourceHosts.filter { $0.matches(host) }.max { $0.description.count < $1.description.count }
    }

    /// The intercepted names known before any client names one: Microsoft's STS hosts and the exact names the
    /// operator configured, and as `*.suffix` the suffixes whose every subdomain is intercepted (Entra's and the
    /// operator's `--resource-host *.suffix`). Their leaves are never refused nor evicted for names a client made up.
    package var namesKnownAtStart: Set<String> {
        var names = Set(STSHosts.interceptedNames + STSHosts.entraNamesToTrack).union(extraInterceptedHosts)
        var wildcards = Set(STSHosts.interceptedSuffixes.map { "*" + $0 })
        for pattern in resourceHosts {
            switch pattern {
            case .exact(let name): names.insert(name)
            case .subdomains: wildcards.insert(pattern.description)
            }
        }
        return names.filter(intercepts(host:)).union(wildcards)
    }

    /// Whether TenantGate terminates TLS for `host` (canonical): every cloud's Entra STS hosts, known non-Entra
    /// STSs, configured resource hosts, and Microsoft's login hosts when Tenant Restrictions v2 is injected; never
    /// the hosts whose clients pin or present device certificates.
    package func intercepts(host: String) -> Bool {
        if STSHosts.neverIntercepted.contains(host) { return false }
        if tenantRestrictionsV2?.applies(to: host) == true || resourcePattern(host: host) != nil { return true }
        return STSHosts.shouldIntercept(host, extraHosts: extraInterceptedHosts)
    }
}
