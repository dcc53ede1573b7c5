import AdminAPI
import EntraAuth
import Foundation
import TenantPolicy
import Testing

/// A console session ends when left unused and, whatever its use, at a bounded age, so roles are read again.
struct ConsoleSessionFreshnessTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func session() throws -> ConsoleSession {
        let principal = AdminPrincipal(
            tenant: try #require(TenantID("bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0")),
            objectID: nil,
            displayName: nil,
            username: nil,
            roles: [],
            applicationID: nil
        )
        return ConsoleSession(principal: principal, csrfToken: "t", now: start)
    }

    @Test func aSessionInUseStaysUntilItsMaximumAge() throws {
        var session = try Self.session()
        #expect(session.freshness(at: Self.start.addingTimeInterval(30)) == .fresh)
        var now = Self.start
        while now.timeIntervalSince(Self.start) < ConsoleSession.maximumAge - 600 {
            now = now.addingTimeInterval(600)
            #expect(session.freshness(at: now) == .touch)
            session.lastSeen = now
        }
        #expect(session.freshness(at: Self.start.addingTimeInterval(ConsoleSession.maximumAge + 1)) == .expired)
    }

    @Test func anUnusedSessionEnds() throws {
        let session = try Self.session()
        #expect(session.freshness(at: Self.start.addingTimeInterval(ConsoleSession.idleLimit - 1)) == .touch)
        #expect(session.freshness(at: Self.start.addingTimeInterval(ConsoleSession.idleLimit + 1)) == .expired)
    }
}
