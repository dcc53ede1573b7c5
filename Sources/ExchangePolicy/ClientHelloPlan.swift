import NetworkPolicy
import TokenInspection

/// What an accepted CONNECT to port 443 becomes once its TLS ClientHello is read (SPEC 3; Squid's peek, Envoy's
/// tls_inspector): the name in the SNI decides, not the CONNECT line alone.
///
/// - An SNI naming an intercepted host is intercepted as that host, whatever the CONNECT said (an IP literal, an
///   alias). A CONNECT naming an intercepted host whose SNI names another host is refused.
/// - A CONNECT naming an intercepted host must speak TLS; anything else (no TLS, a malformed hello) is refused.
/// - Everything else is a blind tunnel to the address judged for the CONNECT target.
package enum ClientHelloPlan: Sendable, Equatable {
    case intercept(HostPort)
    case tunnel
    /// Refused, for this reason (audited as `tlsServerName`).
    case refuse(String)

    /// - Parameters:
    ///   - target: the CONNECT target, its host canonical.
    ///   - connectNamesInterceptedHost: whether the CONNECT line itself names a host TenantGate intercepts.
    ///   - helloLimit: the most bytes read for the hello, named when a longer one is refused.
    package static func plan(
        for reading: TLSClientHello.Reading,
        target: HostPort,
        connectNamesInterceptedHost: Bool,
        rules: InterceptionRules,
        helloLimit: Int
    ) -> ClientHelloPlan {
        switch reading {
        case .clientHello(let serverName):
            let named = serverName.flatMap { HostName.canonical($0) }
            if let named, rules.intercepts(host: named) {
                guard !connectNamesInterceptedHost || named == target.host else {
                    return .refuse("the CONNECT names \(target.host) but the TLS ClientHello names \(named)")
                }
                return .intercept(HostPort(host: named, port: target.port))
            }
            guard connectNamesInterceptedHost else { return .tunnel }
            guard let named else { return .intercept(target) }
            return .refuse("the CONNECT names \(target.host) but the TLS ClientHello names \(named)")
        case .notTLS:
            guard !connectNamesInterceptedHost else {
                return .refuse("the client did not start TLS with \(target.host)")
            }
            return .tunnel
        case .malformed(let problem):
            return .refuse("the TLS ClientHello is malformed (\(problem))")
        case .needMoreBytes:
            return .refuse("the TLS ClientHello is larger than \(helloLimit) bytes")
        }
    }
}
