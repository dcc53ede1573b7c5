import Foundation
import Testing

@testable import AdminConsole

/// Sign-ins in progress: each finishes once, within its lifetime, and abandoned ones cannot fill memory.
struct SignInAttemptsTests {
    @Test func anAttemptFinishesOnce() async {
        let attempts = SignInAttempts()
        let (id, attempt) = await attempts.start(
            redirectURI: "http://127.0.0.1/cb",
            returnTo: "/console",
            source: "127.0.0.1"
        )
        #expect(attempt.state != attempt.nonce)
        #expect(attempt.codeVerifier.count == 43)
        #expect(await attempts.finish(id: id)?.state == attempt.state)
        #expect(await attempts.finish(id: id) == nil)
        #expect(await attempts.finish(id: "made-up") == nil)
    }

    @Test func anAttemptExpires() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (id, _) = await attempts.start(
            redirectURI: "http://127.0.0.1/cb",
            returnTo: "/console",
            source: "127.0.0.1",
            now: start
        )
        #expect(await attempts.finish(id: id, now: start.addingTimeInterval(SignInAttempts.lifetime + 1)) == nil)
    }

    /// Review 21: 129 addresses, 8 attempts each, evicted every sign-in in progress. At capacity the client with the
    /// most attempts gives way, so a flood from more addresses than fill it still evicts only its own.
    @Test func manyAddressesCannotEvictARealSignIn() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (real, _) = await attempts.start(
            redirectURI: "http://127.0.0.1/cb",
            returnTo: "/console",
            source: "198.51.100.7",
            now: start
        )
        var last = ""
        let addresses = SignInAttempts.capacity / SignInAttempts.perSource + 16
        for index in 0..<(addresses * SignInAttempts.perSource) {
            last = await attempts.start(
                redirectURI: "http://127.0.0.1/cb",
                returnTo: "/console",
                source: "10.0.\(index % addresses / 256).\(index % addresses % 256)",
                now: start.addingTimeInterval(Double(index + 1) / 10000)
            ).id
        }
        let later = start.addingTimeInterval(5)
        #expect(await attempts.finish(id: real, now: later) != nil)
        #expect(await attempts.finish(id: last, now: later) != nil)
    }

    /// One IPv6 host holds a whole /64: its addresses count as one client.
    @Test func anIPv6ClientIsItsSlash64() {
        #expect(SignInAttempts.client(of: "2001:db8:1:2::1") == SignInAttempts.client(of: "2001:db8:1:2:ffff::9"))
        #expect(SignInAttempts.client(of: "2001:db8:1:2::1") != SignInAttempts.client(of: "2001:db8:1:3::1"))
        #expect(SignInAttempts.client(of: "::ffff:192.0.2.7") == "192.0.2.7")
        #expect(SignInAttempts.client(of: "192.0.2.7") == "192.0.2.7")
        #expect(SignInAttempts.client(of: "unknown") == "unknown")
    }

    /// One address flooding the sign-in page evicts only its own attempts: another's sign-in still finishes.
    @Test func oneAddressCannotEvictAnothersSignIn() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (real, _) = await attempts.start(
            redirectURI: "http://127.0.0.1/cb",
            returnTo: "/console",
            source: "198.51.100.7",
            now: start
        )
        var flood: [String] = []
        for index in 1...(SignInAttempts.capacity * 2) {
            flood.append(
                await attempts.start(
                    redirectURI: "http://127.0.0.1/cb",
                    returnTo: "/console",
                    source: "203.0.113.9",
                    now: start.addingTimeInterval(Double(index) / 1000)
                ).id
            )
        }
        let later = start.addingTimeInterval(5)
        #expect(await attempts.finish(id: real, now: later) != nil)
        #expect(await attempts.finish(id: flood[0], now: later) == nil, "the flood's oldest gave way")
        #expect(await attempts.finish(id: flood[flood.count - 1], now: later) != nil)
    }

    @Test func thePKCEChallengeIsRFC7636s() {
        // RFC 7636 appendix B.
        #expect(
            RandomToken.challenge(of: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )
    }
}
