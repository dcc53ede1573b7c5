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

    @Test func theOldestGiveWayAtCapacity() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (first, _) = await attempts.start(
            redirectURI: "http://127.0.0.1/cb",
            returnTo: "/console",
            source: "127.0.0.1",
            now: start
        )
        var last = ""
        for index in 1...SignInAttempts.capacity {
            last = await attempts.start(
                redirectURI: "http://127.0.0.1/cb",
                returnTo: "/console",
                source: "192.0.2.\(index % 200)",
                now: start.addingTimeInterval(Double(index) / 1000)
            ).id
        }
        #expect(await attempts.finish(id: first, now: start.addingTimeInterval(2)) == nil)
        #expect(await attempts.finish(id: last, now: start.addingTimeInterval(2)) != nil)
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
