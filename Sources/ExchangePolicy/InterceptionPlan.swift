import NetworkPolicy
import TokenInspection

/// What to do with a CONNECT target (STYLE 4 step 2; mitmproxy's next_layer choice).
package enum InterceptionPlan: Equatable, Sendable {
    /// Terminate TLS with a minted leaf and inspect (STS hosts, configured resource hosts).
    case intercept
    /// Splice bytes blindly.
    case tunnel
    /// Refuse with this status code and sentence.
    case refuse(status: Int, reason: String)

    /// `target.host` must already be canonical (`HostName.canonical`).
    package static func plan(for target: HostPort, rules: InterceptionRules) -> InterceptionPlan {
        guard rules.allowedConnectPorts.contains(target.port) else {
            let allowed = rules.allowedConnectPorts.sorted().map(String.init).joined(separator: ", ")
            return .refuse(status: 403, reason: "CONNECT to port \(target.port) is not allowed (allowed: \(allowed))")
        }
        return rules.intercepts(host: target.host) ? .intercept : .tunnel
    }
}

/// The settings that decide which hosts TenantGate terminates TLS for, and which ports a CONNECT may reach.
package struct InterceptionRules: Sendable {
    /// Ports CONNECT may reach (SPEC 5: 443 only unless configured).
    package var allowedConnectPorts: Set<Int>
    /// Resource hosts intercepted beside the STS hosts.
    package var extraInterceptedHosts: Set<String>
    /// When set, Microsoft's login hosts are intercepted to inject the TRv2 header.
    package var tenantRestrictionsV2: TenantRestrictionsV2?

    package init(
        allowedConnectPorts: Set<Int>, extraInterceptedHosts: Set<String>, tenantRestrictionsV2: TenantRestrictionsV2?
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
