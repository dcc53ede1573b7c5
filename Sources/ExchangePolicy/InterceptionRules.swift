import TokenInspection

/// The settings that decide which hosts TenantGate terminates TLS for, and which ports a CONNECT may reach.
package struct InterceptionRules: Sendable {
    /// Ports CONNECT may reach (SPEC 5: 443 only unless configured).
    package var allowedConnectPorts: Set<Int>
    /// Resource hosts intercepted beside the STS hosts.
    package var extraInterceptedHosts: Set<String>
    /// When set, Microsoft's login hosts are intercepted to inject the TRv2 header.
    package var tenantRestrictionsV2: TenantRestrictionsV2?

    package init(
        allowedConnectPorts: Set<Int>,
        extraInterceptedHosts: Set<String>,
        tenantRestrictionsV2: TenantRestrictionsV2?
    ) {
        self.allowedConnectPorts = allowedConnectPorts
        self.extraInterceptedHosts = extraInterceptedHosts
        self.tenantRestrictionsV2 = tenantRestrictionsV2
    }

    /// Whether TenantGate terminates TLS for `host` (canonical): every cloud's Entra STS hosts, known non-Entra
    /// STSs, configured resource hosts, and Microsoft's login hosts when Tenant Restrictions v2 is injected; never
    /// the hosts whose clients pin or present device certificates.
    package func intercepts(host: String) -> Bool {
        if STSHosts.neverIntercepted.contains(host) { return false }
        if tenantRestrictionsV2?.applies(to: host) == true { return true }
        return STSHosts.shouldIntercept(host, extraHosts: extraInterceptedHosts)
    }
}
