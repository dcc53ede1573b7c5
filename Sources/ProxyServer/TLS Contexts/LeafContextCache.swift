import Caching
import CertificateAuthority
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NetworkPolicy
import Plumbing

/// TLS server contexts for intercepted hosts, each with a leaf certificate minted by TenantGate's CA.
///
/// Minting and `NIOSSLContext` creation are slow (key generation, signing), so they run on the thread pool and
/// the result is cached in a bounded LRU: the hot path is a dictionary lookup. A leaf is minted again once two
/// thirds of its lifetime have passed, so no client is ever shown an expired one however long the proxy runs; a
/// CA replaced on disk (SIGHUP) is used for every session that starts after it, its old leaves forgotten.
///
/// Minting is rate-limited (`mintBurst`, then `mintsPerSecond`): any allowed client can name a new
/// `<random>.ciamlogin.com` or `<random>.sharepoint.com` in each CONNECT, and each would otherwise cost a key
/// generation and a signature. Beyond the rate the session is refused; cached leaves are served as ever. One client
/// address gets a quarter of the rate, so it cannot spend everyone's; and the names known at start (Microsoft's STS
/// hosts, the operator's exact `--intercept-host` and `--resource-host` names) are minted whatever the rate and
/// never evicted, so a flood of new names can neither refuse nor push out `login.microsoftonline.com`.
///
/// A made-up name directly under a `*.suffix` known at start (`*.ciamlogin.com`, a `--resource-host *.suffix`)
/// costs no mint at all: it is served the one wildcard leaf of that suffix, as the real hosts' own certificates are
/// (`*.sharepoint.com`). Only deeper names (`a.b.sharepoint.com`) are minted one by one, at the rate.
final class LeafContextCache: Sendable {
    /// New leaves minted at once before the rate applies: more intercepted names than a deployment meets in a burst.
    static let mintBurst = 32.0
    static let mintsPerSecond = 8.0
    /// One client address's share of the rate.
    static let clientShare = 0.25
    /// Client addresses whose allowance is remembered; beyond, those that have refilled are forgotten.
    static let clientsRemembered = 4096

    struct MintRateExceeded: Error, CustomStringConvertible {
        var description: String { "more new intercepted host names than the minting rate allows" }
    }

    /// A token bucket of mints: the whole proxy's, or one client's share of it.
    private struct MintAllowance {
        let share: Double
        var tokens: Double
        var updated: Date

        init(share: Double = 1, now: Date) {
            self.share = share
            tokens = LeafContextCache.mintBurst * share
            updated = now
        }

        var burst: Double { LeafContextCache.mintBurst * share }

        mutating func refill(now: Date) {
            tokens = min(burst, tokens + now.timeIntervalSince(updated) * LeafContextCache.mintsPerSecond * share)
            updated = now
        }

        mutating func take(now: Date) -> Bool {
            refill(now: now)
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }

    private struct Allowances {
        var proxy: MintAllowance
        var clients: [IPAddress: MintAllowance] = [:]

        /// A mint for `client`, when both its share and the proxy's allow one.
        mutating func take(for client: IPAddress, now: Date) -> Bool {
            var own = clients[client] ?? MintAllowance(share: LeafContextCache.clientShare, now: now)
            own.refill(now: now)
            guard own.tokens >= 1, proxy.take(now: now) else { return false }
            own.tokens -= 1
            clients[client] = own
            if clients.count > LeafContextCache.clientsRemembered {
                clients = clients.filter { _, allowance in
                    var allowance = allowance
                    allowance.refill(now: now)
                    return allowance.tokens < allowance.burst
                }
            }
            return true
        }
    }

    private struct CachedLeaf: Sendable {
        let context: NIOSSLContext
        let renewAfter: Date
        let generation: Int
    }

    private struct Signer: Sendable {
        var authority: CertificateAuthority
        /// Bumped with every new CA, so leaves of an older one are not served.
        var generation: Int
    }

    private let signer: Locked<Signer>
    private let allowances: Locked<Allowances>
    private let cache: BoundedCache<String, CachedLeaf>
    /// The leaves of `knownNames`: minted whatever the rate, never evicted.
    private let pinned = Locked<[String: CachedLeaf]>([:])
    private let knownNames: Set<String>
    private let threadPool: NIOThreadPool
    private let now: @Sendable () -> Date

    /// - Parameter knownNames: names intercepted by themselves, and `*.suffix` wildcards whose every subdomain is,
    ///   known at start (lower case).
    init(
        authority: CertificateAuthority,
        capacity: Int,
        knownNames: Set<String> = [],
        threadPool: NIOThreadPool,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.signer = Locked(Signer(authority: authority, generation: 0))
        self.allowances = Locked(Allowances(proxy: MintAllowance(now: now())))
        self.cache = BoundedCache(capacity: capacity)
        self.knownNames = knownNames
        self.threadPool = threadPool
        self.now = now
    }

    /// Mints every later leaf with `authority`, the old one's forgotten; the same CA loaded again changes nothing:
    /// each SIGHUP (`systemctl reload`, a policy edit) forgot every leaf, and names that need one of their own were
    /// minted again at the rate limit, their sessions refused (review 49 F1). Whether it was another CA.
    @discardableResult
    func replaceAuthority(_ authority: CertificateAuthority) -> Bool {
        signer.withLock { signer in
            guard signer.authority.certificateDER != authority.certificateDER else { return false }
            signer = Signer(authority: authority, generation: signer.generation + 1)
            return true
        }
    }

    /// The context for `host`, asked for by `client`, from the cache or minted off the event loop.
    func context(for host: String, client: IPAddress, on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        let key = leafName(for: host.lowercased())
        if let fresh = freshContext(for: key) { return eventLoop.makeSucceededFuture(fresh) }
        guard knownNames.contains(key) || allowances.withLock({ $0.take(for: client, now: now()) }) else {
            return eventLoop.makeFailedFuture(MintRateExceeded())
        }
        return threadPool.runIfActive(eventLoop: eventLoop) {
            if let fresh = self.freshContext(for: key) { return fresh }
            let signer = self.signer.withLock { $0 }
            let mintedAt = self.now()
            let leaf = try signer.authority.mintLeaf(for: key, now: mintedAt)
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try leaf.chainPEM.map {
                    .certificate(try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem))
                },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(leaf.privateKeyPEM.utf8), format: .pem))
            )
            configuration.applicationProtocols = ["http/1.1"]
            // A client that streams records past the proxy's close costs no more than a server would.
            configuration.shutdownTimeout = UpstreamTLSConfiguration.closeNotifyWait
            let context = try NIOSSLContext(configuration: configuration)
            let renewAfter = mintedAt.addingTimeInterval(leaf.notAfter.timeIntervalSince(mintedAt) * 2 / 3)
            let cached = CachedLeaf(context: context, renewAfter: renewAfter, generation: signer.generation)
            if self.knownNames.contains(key) {
                self.pinned.withLock { $0[key] = cached }
            } else {
                self.cache.insert(cached, for: key)
            }
            return context
        }
    }

    /// The name the leaf serving `host` is minted for: the known wildcard covering it, else `host` itself. A client
    /// matches `*` against one whole label of letters, digits and hyphens (RFC 6125 6.4.3), so only such a first
    /// label is covered.
    private func leafName(for host: String) -> String {
        guard !knownNames.contains(host), let dot = host.utf8.firstIndex(of: UInt8(ascii: ".")),
            dot > host.utf8.startIndex, host.utf8[..<dot].allSatisfy(Self.isWildcardLabelByte)
        else { return host }
        let wildcard = "*" + host[dot...]
        return knownNames.contains(wildcard) ? wildcard : host
    }

    private static func isWildcardLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"): true
        default: false
        }
    }

    private func freshContext(for key: String) -> NIOSSLContext? {
        let leaf = knownNames.contains(key) ? pinned.withLock { $0[key] } : cache.value(for: key)
        guard let cached = leaf, now() < cached.renewAfter,
            cached.generation == signer.withLock({ $0.generation })
        else { return nil }
        return cached.context
    }
}
