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
}
