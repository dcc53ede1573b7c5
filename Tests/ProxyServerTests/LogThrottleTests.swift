import Testing

@testable import ProxyServer

struct LogThrottleTests {
    /// The first occurrence is logged; the next ones within the interval are counted, and the count goes with the
    /// first line after it.
    @Test func oneLinePerIntervalCarriesTheCountOfTheOthers() {
        let throttle = LogThrottle(interval: .seconds(10))
        let start = ContinuousClock.now
        #expect(throttle.occurred(now: start) == 0)
        for second in 1...9 { #expect(throttle.occurred(now: start + .seconds(second)) == nil) }
        #expect(throttle.occurred(now: start + .seconds(10)) == 9)
        #expect(throttle.occurred(now: start + .seconds(11)) == nil)
        #expect(throttle.occurred(now: start + .seconds(30)) == 1)
    }
}
