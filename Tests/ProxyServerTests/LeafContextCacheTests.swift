import CertificateAuthority
import Foundation
import NIOCore
import NIOPosix
import Plumbing
import Testing

@testable import ProxyServer

/// Leaves are renewed before they expire and a replaced CA is used at once, on an injected clock.
struct LeafContextCacheTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    final class Clock: Sendable {
        private let current = Locked(LeafContextCacheTests.start)
        var now: Date { current.withLock { $0 } }
        func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    static func withCache(_ body: (LeafContextCache, Clock, any EventLoop) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let clock = Clock()
        let authority = try CertificateAuthority.generate(commonName: "test CA", now: start.addingTimeInterval(-86_400))
        let cache = LeafContextCache(authority: authority, capacity: 8, threadPool: pool, now: { clock.now })
        try await body(cache, clock, group.next())
        try await pool.shutdownGracefully()
        try await group.shutdownGracefully()
    }

    @Test func aLeafIsKeptForTwoThirdsOfItsLifetimeThenMintedAgain() async throws {
        try await Self.withCache { cache, clock, loop in
            let first = try await cache.context(for: "login.microsoftonline.com", on: loop).get()
            clock.advance(by: 4 * 86_400)  // 4 of 7 days: still within two thirds
            #expect(try await cache.context(for: "login.microsoftonline.com", on: loop).get() === first)
            clock.advance(by: 16 * 3600)  // 4 days 16 hours: past two thirds (4 days 16 hours)
            let renewed = try await cache.context(for: "login.microsoftonline.com", on: loop).get()
            #expect(renewed !== first)
            #expect(try await cache.context(for: "login.microsoftonline.com", on: loop).get() === renewed)
        }
    }

    /// Random names in CONNECTs cannot make the proxy mint without end: past the burst, new names are refused
    /// until the rate allows, and names already minted are served all along.
    @Test func newNamesAreMintedAtABoundedRate() async throws {
        try await Self.withCache { cache, clock, loop in
            let known = try await cache.context(for: "login.microsoftonline.com", on: loop).get()
            var refused = 0
            for index in 0..<Int(LeafContextCache.mintBurst) + 10 {
                do {
                    _ = try await cache.context(for: "r\(index).ciamlogin.com", on: loop).get()
                } catch is LeafContextCache.MintRateExceeded {
                    refused += 1
                }
                // A name in use stays cached (and recent in the LRU) and is served whatever the rate.
                #expect(try await cache.context(for: "login.microsoftonline.com", on: loop).get() === known)
            }
            #expect(refused == 11, "one token went to the known name")
            #expect(try await cache.context(for: "login.microsoftonline.com", on: loop).get() === known)
            clock.advance(by: 1)
            _ = try await cache.context(for: "after-a-second.ciamlogin.com", on: loop).get()
        }
    }

    @Test func aReplacedAuthoritySignsTheNextSessions() async throws {
        try await Self.withCache { cache, _, loop in
            let first = try await cache.context(for: "login.windows.net", on: loop).get()
            cache.replaceAuthority(try CertificateAuthority.generate(commonName: "new CA", now: Self.start))
            #expect(try await cache.context(for: "login.windows.net", on: loop).get() !== first)
        }
    }
}
