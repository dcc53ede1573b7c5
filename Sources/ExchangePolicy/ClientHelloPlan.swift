import NetworkPolicy
import TokenInspection

/// What an accepted CONNECT to port 443 becomes once its TLS ClientHello is read (SPEC 3; Squid's peek, Envoy's
/// tls_inspector): the name in the SNI decides, not the CONNECT line alone.
///
/// - An SNI naming an intercepted host is intercepted as that host, whatever the CONNECT said (an IP literal, an
///   alias). A CONNECT naming an intercepted host whose SNI names another host is refused.
/// - A CONNECT naming an intercepted host must speak TLS; anything else (no TLS, a malformed hello) is refused.
/// - A CONNECT to an IP address whose hello names no server is refused: Entra's token service answers on its
///   addresses without a name, and a tunnel there would be judged by nobody.
/// - An Encrypted Client Hello hides the server it is for: refused to an intercepted host, to an IP address, or when
///   its public name is an intercepted one; otherwise a tunnel, as the CONNECT's name was judged.
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
            guard connectNamesInterceptedHost else {
                guard named == nil, IPAddress(target.host) != nil else { return .tunnel }
                return .refuse(
                    "a TLS session to the IP address \(target.host) names no server (SNI): it cannot be judged, and "
                        + "Entra's token service answers on its addresses too"
                )
            }
            guard let named else { return .intercept(target) }
            return .refuse("the CONNECT names \(target.host) but the TLS ClientHello names \(named)")
        case .encryptedClientHello(let outerName):
            let outer = outerName.flatMap { HostName.canonical($0) }
            guard !connectNamesInterceptedHost, IPAddress(target.host) == nil,
                !(outer.map { rules.intercepts(host: $0) } ?? false)
            else {
                return .refuse(
                    "the TLS ClientHello is encrypted (ECH, public name \(outer ?? "none")): the server it is for "
                        + "cannot be read, so a session to \(target.host) cannot be judged"
                )
            }
            return .tunnel
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
