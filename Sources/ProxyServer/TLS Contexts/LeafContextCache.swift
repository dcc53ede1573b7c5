import Caching
import CertificateAuthority
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Plumbing

/// TLS server contexts for intercepted hosts, each with a leaf certificate minted by TenantGate's CA.
///
/// Minting and `NIOSSLContext` creation are slow (key generation, signing), so they run on the thread pool and
/// the result is cached in a bounded LRU: the hot path is a dictionary lookup. A leaf is minted again once two
/// thirds of its lifetime have passed, so no client is ever shown an expired one however long the proxy runs; a
/// CA replaced on disk (SIGHUP) is used for every session that starts after it, its old leaves forgotten.
///
/// Minting is rate-limited (`mintBurst`, then `mintsPerSecond`): any allowed client can name a new
/// `<random>.ciamlogin.com` or `<random>.login.microsoft.com` in each CONNECT, and each would otherwise cost a key
/// generation and a signature. Beyond the rate the session is refused; cached leaves are served as ever.
final class LeafContextCache: Sendable {
    /// New leaves minted at once before the rate applies: more intercepted names than a deployment meets in a burst.
    static let mintBurst = 32.0
    static let mintsPerSecond = 8.0

    struct MintRateExceeded: Error, CustomStringConvertible {
        var description: String { "more new intercepted host names than the minting rate allows" }
    }

    /// A token bucket of mints.
    private struct MintAllowance {
        var tokens = LeafContextCache.mintBurst
        var updated: Date

        mutating func take(now: Date) -> Bool {
            tokens = min(
                LeafContextCache.mintBurst,
                tokens + now.timeIntervalSince(updated) * LeafContextCache.mintsPerSecond
            )
            updated = now
            guard tokens >= 1 else { return false }
            tokens -= 1
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
    private let allowance: Locked<MintAllowance>
    private let cache: BoundedCache<String, CachedLeaf>
    private let threadPool: NIOThreadPool
    private let now: @Sendable () -> Date

    init(
        authority: CertificateAuthority,
        capacity: Int,
        threadPool: NIOThreadPool,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.signer = Locked(Signer(authority: authority, generation: 0))
        self.allowance = Locked(MintAllowance(updated: now()))
        self.cache = BoundedCache(capacity: capacity)
        self.threadPool = threadPool
        self.now = now
    }

    /// Mints every later leaf with `authority`.
    func replaceAuthority(_ authority: CertificateAuthority) {
        signer.withLock { $0 = Signer(authority: authority, generation: $0.generation + 1) }
    }

    /// The context for `host`, from the cache or minted off the event loop.
    func context(for host: String, on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        let key = host.lowercased()
        if let fresh = freshContext(for: key) { return eventLoop.makeSucceededFuture(fresh) }
        guard allowance.withLock({ $0.take(now: now()) }) else {
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
            let context = try NIOSSLContext(configuration: configuration)
            let renewAfter = mintedAt.addingTimeInterval(leaf.notAfter.timeIntervalSince(mintedAt) * 2 / 3)
            self.cache.insert(
                CachedLeaf(context: context, renewAfter: renewAfter, generation: signer.generation),
                for: key
            )
            return context
        }
    }

    private func freshContext(for key: String) -> NIOSSLContext? {
        guard let cached = cache.value(for: key), now() < cached.renewAfter,
            cached.generation == signer.withLock({ $0.generation })
        else { return nil }
        return cached.context
    }
}
