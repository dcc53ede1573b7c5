import CertificateAuthority
import Foundation
import NIOCore
import NIOPosix
import NetworkPolicy
import Plumbing
import Testing

@testable import ProxyServer

/// Leaves are renewed before they expire and a replaced CA is used at once, on an injected clock.
struct LeafContextCacheTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let client = IPAddress("127.0.0.1")!

    /// Client addresses 10.0.0.`n`.
    static func client(_ n: Int) -> IPAddress { IPAddress("10.0.0.\(n)")! }

    final class Clock: Sendable {
        private let current = Locked(LeafContextCacheTests.start)
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func withCache(
        knownNames: Set<String> = ["login.microsoftonline.com"],
        authority given: CertificateAuthority? = nil,
        _ body: (LeafContextCache, Clock, any EventLoop) async throws -> Void
    ) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let clock = Clock()
        let authority =
            try given ?? CertificateAuthority.generate(commonName: "test CA", now: start.addingTimeInterval(-86_400))
        let cache = LeafContextCache(
            authority: authority,
            capacity: 8,
            knownNames: knownNames,
            threadPool: pool,
            now: { clock.now }
        )
        try await body(cache, clock, group.next())
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    @Test func aLeafIsKeptForTwoThirdsOfItsLifetimeThenMintedAgain() async throws {
        try await Self.withCache { cache, clock, loop in
            let first = try await cache.context(for: "login.microsoftonline.com", client: Self.client, on: loop).get()
            clock.advance(by: 4 * 86_400)  // 4 of 7 days: still within two thirds
            #expect(
                try await cache.context(for: "login.microsoftonline.com", client: Self.client, on: loop).get() === first
            )
            clock.advance(by: 16 * 3600)  // 4 days 16 hours: past two thirds (4 days 16 hours)
            let renewed = try await cache.context(for: "login.microsoftonline.com", client: Self.client, on: loop).get()
            #expect(renewed !== first)
            #expect(
                try await cache.context(for: "login.microsoftonline.com", client: Self.client, on: loop).get()
                    === renewed
            )
        }
    }

    /// Random names in CONNECTs cannot make the proxy mint without end: past a client's share of the burst its new
    /// names are refused until the rate allows, while another client's are still minted; past the proxy's burst
    /// everyone's new names are; a name known at start is minted and served all along, and never evicted.
    @Test func newNamesAreMintedAtABoundedRateAndFairly() async throws {
        try await Self.withCache { cache, clock, loop in
            func mint(_ name: String, by client: IPAddress) async throws -> Bool {
                do {
                    _ = try await cache.context(for: name, client: client, on: loop).get()
                    return true
                } catch is LeafContextCache.MintRateExceeded {
                    return false
                }
            }
            let share = Int(LeafContextCache.mintBurst * LeafContextCache.clientShare)
            var minted = 0
            for index in 0..<share + 10 where try await mint("r\(index).ciamlogin.com", by: Self.client(1)) {
                minted += 1
            }
            #expect(minted == share, "one client gets its share of the burst")
            #expect(try await mint("other.ciamlogin.com", by: Self.client(2)), "another client is still served")
            // Three more clients spend the rest of the proxy's burst: then nobody's new name is minted.
            for client in 3...5 {
                for index in 0..<share {
                    _ = try await mint("c\(client)-\(index).sharepoint.com", by: Self.client(client))
                }
            }
            #expect(try await !mint("late.ciamlogin.com", by: Self.client(6)))
            // The known name is minted though every allowance is spent, and stays though the cache (8) overflowed.
            let known = try await cache.context(for: "login.microsoftonline.com", client: Self.client(1), on: loop)
                .get()
            clock.advance(by: 10)
            for index in 0..<12 { _ = try await mint("later-\(index).sharepoint.com", by: Self.client(10 + index)) }
            #expect(
                try await cache.context(for: "login.microsoftonline.com", client: Self.client(7), on: loop).get()
                    === known
            )
            #expect(try await mint("after-ten-seconds.ciamlogin.com", by: Self.client(1)))
        }
    }

    /// Made-up names directly under a known `*.suffix` cost no mint: however many a client names, each is served
    /// the suffix's one wildcard leaf. A deeper name, or a first label `*` cannot stand for, has a leaf of its own.
    @Test func namesUnderAKnownWildcardShareItsLeafAndSpendNoAllowance() async throws {
        try await Self.withCache(knownNames: ["*.ciamlogin.com", "*.sharepoint.com"]) { cache, _, loop in
            let wildcard = try await cache.context(for: "contoso.ciamlogin.com", client: Self.client, on: loop).get()
            let burst = Int(LeafContextCache.mintBurst)
            for index in 0..<(2 * burst) {
                let name = "R\(index)-x.ciamlogin.com"
                #expect(try await cache.context(for: name, client: Self.client, on: loop).get() === wildcard)
            }
            let sharePoint = try await cache.context(for: "a.sharepoint.com", client: Self.client, on: loop).get()
            #expect(sharePoint !== wildcard)
            for name in ["a.b.ciamlogin.com", "under_score.ciamlogin.com", "ciamlogin.com"] {
                #expect(try await cache.context(for: name, client: Self.client, on: loop).get() !== wildcard)
            }
        }
    }

    @Test func aReplacedAuthoritySignsTheNextSessions() async throws {
        try await Self.withCache { cache, _, loop in
            let first = try await cache.context(for: "login.windows.net", client: Self.client, on: loop).get()
            #expect(cache.replaceAuthority(try CertificateAuthority.generate(commonName: "new CA", now: Self.start)))
            #expect(try await cache.context(for: "login.windows.net", client: Self.client, on: loop).get() !== first)
        }
    }

    /// Review 49 F1: every SIGHUP forgot every leaf, and names that need their own were minted again at the rate
    /// limit. The same CA, loaded again from its files, keeps them.
    @Test func theSameAuthorityLoadedAgainKeepsItsLeaves() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (certificatePath, keyPath) = ("\(directory)/ca.pem", "\(directory)/ca.key")
        let (authority, _) = try CertificateAuthority.loadOrCreate(
            certificatePath: certificatePath,
            keyPath: keyPath,
            now: Self.start.addingTimeInterval(-86_400)
        )
        try await Self.withCache(authority: authority) { cache, _, loop in
            let first = try await cache.context(for: "org1.crm.dynamics.com", client: Self.client, on: loop).get()
            let again = try CertificateAuthority.load(certificatePath: certificatePath, keyPath: keyPath)
            #expect(!cache.replaceAuthority(again))
            #expect(
                try await cache.context(for: "org1.crm.dynamics.com", client: Self.client, on: loop).get() === first
            )
        }
    }
}
