import NetworkPolicy
import Testing

@testable import ProxyServer

struct BodyMemoryBudgetTests {
    @Test func aReservationBeyondTheLimitTakesNothing() {
        let budget = BodyMemoryBudget(limit: 100)
        var first = BodyReservation(budget: budget)
        var second = BodyReservation(budget: budget)
        let took60 = first.take(60)
        let took41 = second.take(41)
        #expect(took60 && !took41)
        #expect(budget.inUse == 60)
        let took40 = second.take(40)
        #expect(took40)
        first.releaseAll()
        second.releaseAll()
        #expect(budget.inUse == 0)
        let tookAll = first.take(100)
        #expect(tookAll)
    }

    /// One client address takes at most its share (an eighth, or one largest body), whatever its connections; the
    /// rest stays for others, and what it gives back is its own again.
    @Test func oneClientTakesAtMostItsShare() throws {
        let budget = BodyMemoryBudget(limit: 800)
        let greedy = try #require(IPAddress("127.0.0.1"))
        var connections = (0..<4).map { _ in BodyReservation(budget: budget, client: greedy) }
        let took = connections.indices.map { connections[$0].take(40) }
        #expect(took == [true, true, false, false])
        var other = BodyReservation(budget: budget, client: try #require(IPAddress("127.0.0.2")))
        let otherTook = other.take(100)
        #expect(otherTook)
        connections[0].releaseAll()
        let tookAgain = connections[2].take(40)
        #expect(tookAgain)
        #expect(BodyMemoryBudget(limit: 800, largestBody: 300).clientShare == 300)
    }

    /// An answered request gives back its own body's bytes; a request pipelined behind it keeps its share.
    @Test func aReservationGivesBackPartOfWhatItTook() throws {
        let budget = BodyMemoryBudget(limit: 800)
        var session = BodyReservation(budget: budget, client: try #require(IPAddress("127.0.0.1")))
        let tookBoth = session.take(60) && session.take(30)
        #expect(tookBoth)
        session.release(60)
        #expect(budget.inUse == 30 && session.held == 30)
        session.release(100)
        #expect(budget.inUse == 0 && session.held == 0)
    }
}
