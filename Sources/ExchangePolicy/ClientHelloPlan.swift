import NetworkPolicy
import TokenInspection

/// What an accepted CONNECT to port 443 becomes once its TLS ClientHello is read (SPEC 3; Squid's peek, Envoy's
/// tls_inspector): the name in the SNI decides, not the CONNECT line alone.
///
/// - An SNI naming an intercepted host is intercepted as that host, whatever the CONNECT said (an IP literal, an
///   alias). A CONNECT naming an intercepted host whose SNI names another host is refused.
/// - A CONNECT naming an intercepted host must speak TLS; anything else (no TLS, a malformed hello) is refused.
/// - A CONNECT to an IP address, or by another name to an address of Entra's token service, whose hello names no
///   intercepted host (no SNI, another name, ECH, a first message not read as TLS) is refused: Entra answers on its addresses whatever the name, and a
///   tunnel there would be judged by nobody.
/// - An Encrypted Client Hello whose public (outer) name is intercepted is intercepted as that name, as a hello naming
///   it would be. Behind a proxy a browser has no ECH configuration and sends GREASE ECH beside the real name, which
///   goes on as a plain session; a client with a real configuration verifies TenantGate's certificate for the public
///   name, sees ECH "securely disabled" (the ECH specification provides this for TLS-terminating middleboxes) and
///   retries without it, naming its server in the clear. Any other ECH hides the server it is for: refused to an
///   intercepted host or such an address; otherwise a tunnel, as the CONNECT's name was judged.
/// - Everything else is a blind tunnel to the address judged for the CONNECT target.
package enum ClientHelloPlan: Sendable, Equatable {
    case intercept(HostPort)
    case tunnel
    /// Refused, for this reason (audited as `tlsServerName`).
    case refuse(String)

    /// Where a CONNECT to a host TenantGate does not intercept would land, as far as the plan cares.
    private enum Landing: Equatable {
        /// A name whose address is not known to be Entra's.
        case ordinary
        /// The CONNECT names an IP address: it may be Entra's, whatever the hello says.
        case ipAddress
        /// The CONNECT's name resolved to this address of Entra's token service.
        case entraAddress(IPAddress)
    }

    /// - Parameters:
    ///   - target: the CONNECT target, its host canonical.
    ///   - connectNamesInterceptedHost: whether the CONNECT line itself names a host TenantGate intercepts.
    ///   - entraAddress: the address the CONNECT's name resolved to, when it is one of Entra's token service.
    ///   - helloLimit: the most bytes read for the hello, named when a longer one is refused.
    package static func plan(
        for reading: TLSClientHello.Reading,
        target: HostPort,
        connectNamesInterceptedHost: Bool,
        entraAddress: IPAddress? = nil,
        rules: InterceptionRules,
        helloLimit: Int
    ) -> ClientHelloPlan {
        let landing: Landing =
            IPAddress(target.host) != nil ? .ipAddress : entraAddress.map(Landing.entraAddress) ?? .ordinary
        switch reading {
        case .clientHello(let serverName):
            let named = serverName.flatMap { HostName.canonical($0) }
            if let named, rules.intercepts(host: named) {
                return intercept(named, target: target, connectNamesInterceptedHost: connectNamesInterceptedHost)
            }
            guard connectNamesInterceptedHost else {
                return landing == .ordinary ? .tunnel : refuseUnnamed(target, landing: landing, named: named)
            }
            guard let named else { return .intercept(target) }
            return .refuse("the CONNECT names \(target.host) but the TLS ClientHello names \(named)")
        case .encryptedClientHello(let outerName):
            let outer = outerName.flatMap { HostName.canonical($0) }
            if let outer, rules.intercepts(host: outer) {
                return intercept(outer, target: target, connectNamesInterceptedHost: connectNamesInterceptedHost)
            }
            guard !connectNamesInterceptedHost, landing == .ordinary else {
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
            // Not every TLS session starts as a TLS record (SSL 2.0's hello format does not): what cannot be read
            // may still be one with Entra.
            return landing == .ordinary ? .tunnel : refuseUnnamed(target, landing: landing, named: nil, readable: false)
        case .malformed(let problem):
            return .refuse("the TLS ClientHello is malformed (\(problem))")
        case .needMoreBytes:
            return .refuse("the TLS ClientHello is larger than \(helloLimit) bytes")
        }
    }

    /// A session whose hello names the intercepted host `named`: intercepted as it, unless the CONNECT named another
    /// intercepted host.
    private static func intercept(
        _ named: String,
        target: HostPort,
        connectNamesInterceptedHost: Bool
    ) -> ClientHelloPlan {
        guard !connectNamesInterceptedHost || named == target.host else {
            return .refuse("the CONNECT names \(target.host) but the TLS ClientHello names \(named)")
        }
        return .intercept(HostPort(host: named, port: target.port))
    }

    /// A session that may reach Entra's token service without naming a host TenantGate intercepts.
    private static func refuseUnnamed(
        _ target: HostPort,
        landing: Landing,
        named: String?,
        readable: Bool = true
    ) -> ClientHelloPlan {
        let described = named.map { "the TLS ClientHello names \($0), which TenantGate does not intercept" }
        let hello =
            readable
            ? described ?? "the TLS ClientHello names no server (SNI)"
            : "the client did not start with a TLS ClientHello that TenantGate can read"
        switch landing {
        case .entraAddress(let address):
            return .refuse(
                "\(target.host) resolves to \(address), an address of Entra's token service, and \(hello): only a "
                    + "session naming an intercepted host may reach it"
            )
        case .ipAddress, .ordinary:
            return .refuse(
                "a session to the IP address \(target.host), and \(hello): it cannot be judged, and Entra's token "
                    + "service answers on its addresses too"
            )
        }
    }
}
