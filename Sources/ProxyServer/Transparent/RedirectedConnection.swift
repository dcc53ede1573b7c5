import ExchangePolicy
import NIOCore
import NetworkPolicy
import TokenInspection

/// A connection the kernel redirected to the transparent listener (`--transparent-listen`). No CONNECT says what
/// the client wanted: its TLS ClientHello's server name and its original destination do, and are judged as the
/// CONNECT they stand for (Squid's intercepted connections become a "fake CONNECT" the same way). The creator comes
/// from the client address map or the default: no Proxy-Authorization exists here.
struct RedirectedConnection {
    /// Where the client was going; nil when it came to the listener directly.
    let originalDestination: SocketAddress?
    let client: IPAddress

    enum Verdict {
        /// Judged as an accepted CONNECT to the server name (or the address) would be; `ClientHelloPlan` decides
        /// what follows, as for one.
        case accepted(AcceptedConnect, entraLanding: IPAddress?)
        case refused(ConnectionRefusal)
    }

    func judge(
        _ reading: TLSClientHello.Reading,
        shared: ProxyContext,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<Verdict> {
        let creator = shared.creators.resolveWithoutToken(clientAddress: client)
        @Sendable func refused(_ host: String, _ setting: ConnectionRefusal.Setting, _ reason: String) -> Verdict {
            .refused(ConnectionRefusal(host: host, creator: creator.tenant, setting: setting, reason: reason))
        }
        guard let original = originalDestination, let port = original.port,
            let address = original.ipAddress.flatMap({ IPAddress($0) })
        else {
            return eventLoop.makeSucceededFuture(
                refused(
                    "",
                    .destinationPolicy,
                    "the connection came to the transparent listener directly, not redirected by the kernel: it has "
                        + "no original destination (clients that can be given a proxy setting use --listen)"
                )
            )
        }
        let serverName: String?
        switch reading {
        case .clientHello(let name): serverName = name.flatMap { HostName.canonical($0) }
        case .notTLS:
            return eventLoop.makeSucceededFuture(
                refused(
                    address.description,
                    .tlsServerName,
                    "the client did not start TLS with \(address): the transparent listener takes TLS only "
                        + "(redirect port 443 to it)"
                )
            )
        // No name to go by: judged as a CONNECT to the address, which the plan refuses for these.
        case .encryptedClientHello, .malformed, .needMoreBytes: serverName = nil
        }
        let target = HostPort(host: serverName ?? address.description, port: port)
        let interception = InterceptionPlan.plan(for: target, rules: shared.interception)
        if case .refuse(_, let reason) = interception {
            return eventLoop.makeSucceededFuture(refused(target.host, .destinationPolicy, reason))
        }
        // A tunnel goes where the client was going, so that address is judged; an intercepted host is reached by
        // its name, verified by TLS, as through the explicit listener.
        let route: UpstreamRoute?
        do {
            route = try shared.dialer.route(to: address, for: target)
        } catch {
            guard interception == .intercept else {
                return eventLoop.makeSucceededFuture(refused(target.host, .destinationPolicy, "\(error)"))
            }
            route = nil
        }
        let accepted = Verdict.accepted(
            AcceptedConnect(
                target: target,
                namesInterceptedHost: interception == .intercept,
                creator: creator,
                tunnelRoute: route
            ),
            entraLanding: shared.entraAddresses.landing(original)
        )
        guard let serverName, IPAddress(serverName) == nil else { return eventLoop.makeSucceededFuture(accepted) }
        // The name must be one the client could have been going to: else any allowed name would carry a tunnel to
        // any address (Squid's host_verify_strict).
        return shared.dialer.addresses(of: serverName, for: client, on: eventLoop).map { addresses in
            guard addresses.contains(address) else {
                return refused(
                    serverName,
                    .tlsServerName,
                    "the TLS ClientHello names \(serverName), which resolves to "
                        + addresses.map(\.description).joined(separator: ", ")
                        + " here, but the connection was going to \(address)"
                )
            }
            return accepted
        }
        .recover { error in
            refused(
                serverName,
                .tlsServerName,
                "the TLS ClientHello names \(serverName), which does not resolve here (\(error)), so it cannot be "
                    + "checked against the connection's destination \(address)"
            )
        }
    }
}
