import Foundation
import Testing

@testable import Shipping

/// A sink's `Retry-After` (RFC 9110 10.2.3), read as whatever answers at the sink's address may spell it.
struct RetryAfterTests {
    static let now = Date(timeIntervalSince1970: 1_796_465_472)

    @Test(arguments: [("120", 120), (" 7\t", 7), ("0", 0), ("000030", 30), ("300", 300), ("301", 300)])
    func delaySecondsAreWaitedUpToTheLongest(value: String, seconds: Int) {
        #expect(RetryAfter.wait(value, now: Self.now) == .seconds(seconds))
    }

    @Test func moreDigitsThanADayNeedsAskForTheLongestWait() {
        #expect(RetryAfter.wait("9999999", now: Self.now) == RetryAfter.longest)
        #expect(RetryAfter.wait(String(repeating: "9", count: 400), now: Self.now) == RetryAfter.longest)
    }

    /// Spellings `Double` reads, and the rest that are no Retry-After: the shipper's own backoff applies.
    @Test(arguments: [
        "inf", "infinity", "nan", "-nan", "1e300", "1e999", "-5", "+5", "1.5", "0x10", "5s", "", " ", "tomorrow",
        "Sun, 06 Nov 1994 08:49:37", "Sunday, 06-Nov-94 08:49:37 GMT",
    ])
    func anythingElseIsNoRetryAfter(value: String) {
        #expect(RetryAfter.wait(value, now: Self.now) == nil, "\(value.debugDescription)")
    }

    @Test func anHTTPDateIsAWaitUntilThenUpToTheLongest() {
        // 1_796_465_472 is Sat, 05 Dec 2026 10:11:12 GMT.
        #expect(RetryAfter.wait("Sat, 05 Dec 2026 10:11:42 GMT", now: Self.now) == .seconds(30))
        #expect(RetryAfter.wait("Sun, 06 Nov 1994 08:49:37 GMT", now: Self.now) == .zero, "a date past is now")
        #expect(RetryAfter.wait("Fri, 31 Dec 9999 23:59:59 GMT", now: Self.now) == RetryAfter.longest)
        #expect(RetryAfter.wait(nil, now: Self.now) == nil)
    }
    /// Review 20: `Retry-After: 0` (or a date past) had the same batch sent 2,000 times a second. The backoff is the
    /// floor; a longer `Retry-After` is honoured.
    @Test func theBackoffIsTheShortestWait() {
        let backoff = Duration.milliseconds(500)
        #expect(Shipper.wait(after: ShipRetryAfter(wait: .zero, description: "429"), backoff: backoff) == backoff)
        #expect(
            Shipper.wait(after: ShipRetryAfter(wait: .seconds(30), description: "429"), backoff: backoff)
                == .seconds(30)
        )
        #expect(Shipper.wait(after: CancellationError(), backoff: backoff) == backoff)
    }
}
