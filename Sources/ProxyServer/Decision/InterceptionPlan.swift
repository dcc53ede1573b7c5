import TokenInspection

/// What to do with a CONNECT target (STYLE 4 step 2; mitmproxy's next_layer choice).
enum InterceptionPlan: Equatable {
    /// Terminate TLS with a minted leaf and inspect (STS hosts, configured resource hosts).
    case intercept
    /// Splice bytes blindly.
    case tunnel
    /// Refuse with this status code and sentence.
    case refuse(status: Int, reason: String)

    /// `target.host` must already be canonical (`HostName.canonical`).
    static func plan(for target: HostPort, configuration: ProxyConfiguration) -> InterceptionPlan {
        guard configuration.allowedConnectPorts.contains(target.port) else {
            let allowed = configuration.allowedConnectPorts.sorted().map(String.init).joined(separator: ", ")
            return .refuse(status: 403, reason: "CONNECT to port \(target.port) is not allowed (allowed: \(allowed))")
        }
        return intercepts(host: target.host, configuration: configuration) ? .intercept : .tunnel
    }

    /// Whether TenantGate terminates TLS for `host` (canonical): every cloud's Entra STS hosts, known non-Entra
    /// STSs, configured resource hosts, and Microsoft's login hosts when Tenant Restrictions v2 is injected; never
    /// the hosts whose clients pin or present device certificates.
    static func intercepts(host: String, configuration: ProxyConfiguration) -> Bool {
        if STSHosts.neverIntercepted.contains(host) { return false }
        if configuration.tenantRestrictionsV2?.applies(to: host) == true { return true }
        return STSHosts.shouldIntercept(host, extraHosts: configuration.extraInterceptedHosts)
    }
}
