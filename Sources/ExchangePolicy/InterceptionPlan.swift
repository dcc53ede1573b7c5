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
