import Foundation
import Testing

@testable import AdminConsole

/// Sign-ins in progress: each finishes once, within its lifetime, and abandoned ones cannot fill memory.
struct SignInAttemptsTests {
    @Test func anAttemptFinishesOnce() async {
        let attempts = SignInAttempts()
        let (id, attempt) = await attempts.start(redirectURI: "http://127.0.0.1/cb", returnTo: "/console")
        #expect(attempt.state != attempt.nonce)
        #expect(attempt.codeVerifier.count == 43)
        #expect(await attempts.finish(id: id)?.state == attempt.state)
        #expect(await attempts.finish(id: id) == nil)
        #expect(await attempts.finish(id: "made-up") == nil)
    }

    @Test func anAttemptExpires() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (id, _) = await attempts.start(redirectURI: "http://127.0.0.1/cb", returnTo: "/console", now: start)
        #expect(await attempts.finish(id: id, now: start.addingTimeInterval(SignInAttempts.lifetime + 1)) == nil)
    }

    @Test func theOldestGiveWayAtCapacity() async {
        let attempts = SignInAttempts()
        let start = Date()
        let (first, _) = await attempts.start(redirectURI: "http://127.0.0.1/cb", returnTo: "/console", now: start)
        var last = ""
        for index in 1...SignInAttempts.capacity {
            last = await attempts.start(
                redirectURI: "http://127.0.0.1/cb",
                returnTo: "/console",
                now: start.addingTimeInterval(Double(index) / 1000)
            ).id
        }
        #expect(await attempts.finish(id: first, now: start.addingTimeInterval(2)) == nil)
        #expect(await attempts.finish(id: last, now: start.addingTimeInterval(2)) != nil)
    }

    @Test func thePKCEChallengeIsRFC7636s() {
        // RFC 7636 appendix B.
        #expect(
            RandomToken.challenge(of: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        )
    }
}
