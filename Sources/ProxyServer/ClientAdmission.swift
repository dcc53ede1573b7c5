import NetworkPolicy
import Plumbing

/// Who may hold a client connection, judged when it is accepted, before a byte is read (HAProxy's
/// `tcp-request connection reject`, Squid's `maxconn`): a client outside `--allow-client` is refused and never
/// counted; an allowed one is counted against the proxy's cap and its own address's cap, so that neither silent
/// refused connections nor one greedy host can take every place.
final class ClientAdmission: Sendable {
    enum Verdict: Equatable {
        case admitted
        /// Outside `--allow-client`.
        case refused(String)
        /// The proxy serves `maxClientConnections` already.
        case proxyFull
        /// This address holds `maxConnectionsPerClient` already.
        case clientFull
    }

    private struct Counts {
        var open = 0
        var byAddress: [IPAddress: Int] = [:]
    }

    private let allowed: ClientPolicy
    private let maxConnections: Int
    private let maxPerClient: Int
    private let counts = Locked(Counts())

    init(allowed: ClientPolicy, maxConnections: Int, maxPerClient: Int) {
        self.allowed = allowed
        self.maxConnections = maxConnections
        self.maxPerClient = maxPerClient
    }

    /// Judges a new connection from `address` (nil when the socket has no IP peer, which is refused); an
    /// admitted one must be `release`d when it closes.
    func admit(_ address: IPAddress?) -> Verdict {
        guard let address else {
            // A client that resets as it is accepted leaves a socket with no peer to read.
            return .refused("the connection has no client address to judge (it was reset as it was accepted)")
        }
        guard allowed.permits(address) else {
            return .refused("the client address \(address) may not use this proxy (--allow-client opens a range)")
        }
        return count(address)
    }

    /// Judges a connection from a trusted balancer (`--proxy-protocol-from`) until its header names the client: it
    /// holds a place as the balancer's own, under both caps, though the balancer need not be an allowed client
    /// (review 32: such connections were counted nowhere, and one balancer address that opened and closed them
    /// took every file descriptor). An admitted one must be `release`d when the header is read or it closes.
    func admitBalancer(_ address: IPAddress) -> Verdict {
        count(address)
    }

    private func count(_ address: IPAddress) -> Verdict {
        counts.withLock { counts in
            guard counts.open < maxConnections else { return .proxyFull }
            let mine = counts.byAddress[address, default: 0]
            guard mine < maxPerClient else { return .clientFull }
            counts.open += 1
            counts.byAddress[address] = mine + 1
            return .admitted
        }
    }

    func release(_ address: IPAddress) {
        counts.withLock { counts in
            counts.open -= 1
            let mine = counts.byAddress[address, default: 1] - 1
            counts.byAddress[address] = mine > 0 ? mine : nil
        }
    }

    /// Connections admitted and open now.
    var open: Int { counts.withLock { $0.open } }
}
