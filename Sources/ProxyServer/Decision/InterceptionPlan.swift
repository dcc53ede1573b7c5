import TokenInspection

/// What to do with a CONNECT target (STYLE 4 step 2; mitmproxy's next_layer choice).
enum InterceptionPlan: Equatable {
    /// Terminate TLS with a minted leaf and inspect (STS hosts, configured resource hosts).
    case intercept
    /// Splice bytes blindly.
    case tunnel
    /// Refuse with this status code and sentence.
    case refuse(status: Int, reason: String)

    static func plan(for target: HostPort, configuration: ProxyConfiguration) -> InterceptionPlan {
        guard configuration.allowedConnectPorts.contains(target.port) else {
            let allowed = configuration.allowedConnectPorts.sorted().map(String.init).joined(separator: ", ")
            return .refuse(status: 403, reason: "CONNECT to port \(target.port) is not allowed (allowed: \(allowed))")
        }
        let host = target.host.lowercased()
        if configuration.tenantRestrictionsV2?.applies(to: host) == true { return .intercept }
        return STSHosts.shouldIntercept(host, extraHosts: configuration.extraInterceptedHosts) ? .intercept : .tunnel
    }
}
