import CertificateAuthority
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// TLS server contexts for intercepted hosts, each with a leaf certificate minted by TenantGate's CA.
///
/// Minting and `NIOSSLContext` creation are slow (key generation, signing), so they run on the thread pool and
/// the result is cached in a bounded LRU: the hot path is a dictionary lookup.
final class LeafContextCache: Sendable {
    private let authority: CertificateAuthority
    private let cache: BoundedCache<String, NIOSSLContext>
    private let threadPool: NIOThreadPool

    init(authority: CertificateAuthority, capacity: Int, threadPool: NIOThreadPool) {
        self.authority = authority
        self.cache = BoundedCache(capacity: capacity)
        self.threadPool = threadPool
    }

    /// The context for `host`, from the cache or minted off the event loop.
    func context(for host: String, on eventLoop: any EventLoop) -> EventLoopFuture<NIOSSLContext> {
        let key = host.lowercased()
        if let cached = cache.value(for: key) { return eventLoop.makeSucceededFuture(cached) }
        let authority = self.authority
        let cache = self.cache
        return threadPool.runIfActive(eventLoop: eventLoop) {
            if let cached = cache.value(for: key) { return cached }
            let leaf = try authority.mintLeaf(for: key, now: Date())
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try leaf.chainPEM.map { .certificate(try NIOSSLCertificate(bytes: Array($0.utf8), format: .pem)) },
                privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(leaf.privateKeyPEM.utf8), format: .pem))
            )
            configuration.applicationProtocols = ["http/1.1"]
            let context = try NIOSSLContext(configuration: configuration)
            cache.insert(context, for: key)
            return context
        }
    }
}
