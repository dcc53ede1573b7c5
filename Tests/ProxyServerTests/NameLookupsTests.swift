import Dispatch
import NIOCore
import NIOPosix
import NetworkPolicy
import Plumbing
import TenantPolicy
import Testing

@testable import ProxyServer

/// Lookups stand in for `getaddrinfo` on a name whose DNS server never answers: each blocks until released (at
/// most 10 s). Review 26: two such lookups a second from one client stalled every other client for 27 s and more.
/// Nothing here is timed against the clock: the whole suite runs at once, and a test may wait its turn for seconds.
struct NameLookupsTests {
    static let attacker = IPAddress("127.0.0.2")!
    static let other = IPAddress("127.0.0.3")!

    @Test func oneClientCannotTakeEveryThread() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let lookups = NameLookups(deadline: .seconds(120))
        let release = DispatchSemaphore(value: 0)
        let loop = group.next()
        let stuck = (0..<NameLookups.perClient).map { index in
            lookups.run("never\(index).example", for: Self.attacker, on: loop) {
                _ = release.wait(timeout: .now() + 10)
                return index
            }
        }
        await #expect(throws: NameLookups.Failure.self) {
            try await lookups.run("one-more.example", for: Self.attacker, on: loop) { 0 }.get()
        }
        // Another client is served at once, and so is a name the proxy chose.
        #expect(try await lookups.run("fine.example", for: Self.other, on: loop) { 7 }.get() == 7)
        #expect(try await lookups.run("login.microsoftonline.com", for: nil, on: loop) { 8 }.get() == 8)
        for _ in stuck { release.signal() }
        for future in stuck { _ = try? await future.get() }
        // Its lookups ended, the client has its places back.
        #expect(try await lookups.run("again.example", for: Self.attacker, on: loop) { 9 }.get() == 9)
        await lookups.shutdown()
        try await group.shutdownGracefully()
    }

    /// Review 52 F4: a busy client's sixteen connections at once to one name under `*.sharepoint.com` took its four
    /// places, and twelve got 503. Addresses asked for while a lookup of that name is under way wait for it.
    @Test func connectionsToANameBeingLookedUpWaitForThatLookup() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let release = DispatchSemaphore(value: 0)
        let calls = Locked(0)
        let lookups = NameLookups(deadline: .seconds(120)) { host, port in
            calls.withLock { $0 += 1 }
            _ = release.wait(timeout: .now() + 10)
            return try SocketAddress(ipAddress: "127.0.0.1", port: port)
        }
        let loop = group.next()
        let answers = (0..<16).map { _ in
            lookups.address(of: "contoso.sharepoint.com", port: 443, for: Self.attacker, on: loop)
        }
        release.signal()
        for answer in answers { #expect(try await answer.get().port == 443) }
        #expect(calls.withLock { $0 } == 1)
        await lookups.shutdown()
        try await group.shutdownGracefully()
    }

    /// Review 49 F4: a client's made-up names under `*.sharepoint.com` were looked up as the proxy's own, on its few
    /// threads, with no bound per client. Only names given whole are the proxy's.
    @Test func onlyNamesGivenWholeAreLookedUpAsTheProxys() throws {
        var configuration = ProxyConfiguration(defaultCreatorTenant: nil)
        configuration.resourceHosts = [
            HostPattern(parsing: "*.sharepoint.com")!, HostPattern(parsing: "graph.microsoft.com")!,
        ]
        configuration.extraInterceptedHosts = ["api.contoso.example"]
        for host in [
            "login.microsoftonline.com", "login.microsoftonline.us", "graph.microsoft.com", "api.contoso.example",
        ] {
            #expect(configuration.namesWhole(host), "\(host)")
        }
        for host in [
            "r1.sharepoint.com", "contoso.sharepoint.com", "eastus.login.microsoftonline.us",
            "x.login.microsoftonline.com",
            "made-up.graph.microsoft.com",
        ] {
            #expect(!configuration.namesWhole(host), "\(host)")
        }
    }

    @Test func aCallerWaitsNoLongerThanTheDeadline() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let lookups = NameLookups(deadline: .milliseconds(200))
        let release = DispatchSemaphore(value: 0)
        // The lookup ends only when released, after this: a failure before then is the deadline's.
        let failure = await #expect(throws: NameLookups.Failure.self) {
            try await lookups.run("never.example", for: Self.attacker, on: group.next()) {
                _ = release.wait(timeout: .now() + 10)
                return 0
            }.get()
        }
        #expect(failure?.upstream.code == .timedOut)
        release.signal()
        await lookups.shutdown()
        try await group.shutdownGracefully()
    }
}
