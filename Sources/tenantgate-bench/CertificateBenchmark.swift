import Caching
import CertificateAuthority
import Foundation

/// Leaf certificate minting and leaf cache hits: the cost of the first intercepted connection to a new host
/// (mint on the thread pool) and of every later one (one lookup in the bounded LRU, SPEC 5).
enum CertificateBenchmark {
    /// What the proxy's leaf cache holds per host: one reference (it is an `NIOSSLContext` there), so a hit copies
    /// one pointer, as in the proxy.
    private final class CachedLeaf: Sendable {
        let leaf: MintedLeaf
        init(_ leaf: MintedLeaf) { self.leaf = leaf }
    }

    static func run(mints: Int, rsaMints: Int, lookups: Int) -> [BenchmarkResult] {
        let now = Date()
        var results: [BenchmarkResult] = []
        do {
            let p256 = try CertificateAuthority.generate(commonName: "bench CA", now: now, keyAlgorithm: .p256)
            results.append(try measureMinting(authority: p256, name: "leaf minting, P-256 CA", count: mints, now: now))
            let rsa = try CertificateAuthority.generate(commonName: "bench CA", now: now, keyAlgorithm: .rsa2048)
            results.append(
                try measureMinting(authority: rsa, name: "leaf minting, RSA-2048 CA", count: rsaMints, now: now)
            )
            results += try measureCacheHits(authority: p256, lookups: lookups, now: now)
        } catch {
            print("certificate benchmark failed: \(error)")
        }
        return results
    }

    /// Mints `count` leaves for distinct host names: a P-256 key generation, a signature by the CA and the DER and
    /// PEM encodings, all of which the proxy does once per new host.
    private static func measureMinting(
        authority: CertificateAuthority,
        name: String,
        count: Int,
        now: Date
    ) throws -> BenchmarkResult {
        let hosts = (0..<count).map { "host-\($0).bench.example" }
        var bytes = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for host in hosts {
            bytes &+= try authority.mintLeaf(for: host, now: now).certificateDER.count
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return BenchmarkResult(name: name, operations: count, seconds: seconds, checksum: bytes)
    }

    /// Hits in a full cache of the proxy's default capacity (1,024 hosts, visited round robin so that every hit
    /// reorders the LRU list): the lookup alone, and with the key lowercased first as
    /// `LeafContextCache.context(for:on:)` does for every intercepted connection; then the proxy's common case (the
    /// same STS host every time, already the most recent), and round-robin hits in a 16-entry cache.
    private static func measureCacheHits(
        authority: CertificateAuthority,
        lookups: Int,
        now: Date
    ) throws -> [BenchmarkResult] {
        let capacity = 1024
        let cache = BoundedCache<String, CachedLeaf>(capacity: capacity)
        // Minting 1,024 leaves would take a while; the hit cost does not depend on which leaf a slot holds.
        let shared = CachedLeaf(try authority.mintLeaf(for: "login.microsoftonline.com", now: now))
        let keys = (0..<capacity).map { "host-\($0).login.microsoftonline.com" }
        for key in keys { cache.insert(shared, for: key) }

        var found = 0
        var start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<lookups {
            if let leaf = cache.value(for: keys[index & (capacity - 1)]) { found &+= leaf.leaf.certificateDER.count }
        }
        let hitSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        var foundLowered = 0
        start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<lookups {
            // CONNECT targets arrive lowercase in practice; the proxy lowercases them anyway.
            let key = keys[index & (capacity - 1)].lowercased()
            if let leaf = cache.value(for: key) { foundLowered &+= leaf.leaf.certificateDER.count }
        }
        let loweredSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        // The common case in the proxy: every connection goes to the same STS host, already the most recent entry.
        var foundSame = 0
        let sameHost = keys[capacity - 1]
        start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<lookups {
            if let leaf = cache.value(for: sameHost.lowercased()) { foundSame &+= leaf.leaf.certificateDER.count }
        }
        let sameSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        // The same round-robin hits in a small cache: if the cost grows with the capacity, a hit copies storage.
        let small = BoundedCache<String, CachedLeaf>(capacity: 16)
        for key in keys.prefix(16) { small.insert(shared, for: key) }
        var foundSmall = 0
        start = DispatchTime.now().uptimeNanoseconds
        for index in 0..<lookups {
            if let leaf = small.value(for: keys[index & 15].lowercased()) {
                foundSmall &+= leaf.leaf.certificateDER.count
            }
        }
        let smallSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return [
            BenchmarkResult(
                name: "leaf cache hit, 1024 hosts",
                operations: lookups,
                seconds: hitSeconds,
                checksum: found
            ),
            BenchmarkResult(
                name: "leaf cache hit + lowercased key",
                operations: lookups,
                seconds: loweredSeconds,
                checksum: foundLowered
            ),
            BenchmarkResult(
                name: "leaf cache hit, same host",
                operations: lookups,
                seconds: sameSeconds,
                checksum: foundSame
            ),
            BenchmarkResult(
                name: "leaf cache hit, 16 hosts",
                operations: lookups,
                seconds: smallSeconds,
                checksum: foundSmall
            ),
        ]
    }
}
