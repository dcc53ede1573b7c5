import Foundation

/// How long a sink's `Retry-After` (RFC 9110 10.2.3) asks the shipper to wait: `delay-seconds` (digits only) or an
/// `HTTP-date` (IMF-fixdate). The header comes from whatever answers at the sink's address, so nothing else passes
/// for it: `inf`, `nan`, `1e300`, `-5` or `1.5` are not Retry-After values (Swift's `Double` reads the first four,
/// and turning them into a sleep trapped), and the shipper's own backoff applies. No answer holds a sink's
/// shipping for longer than `longest`.
package enum RetryAfter {
    package static let longest: Duration = .seconds(300)

    /// The wait `value` asks for, at most `longest`; zero for a date already past; nil when it is not a Retry-After.
    package static func wait(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: [" ", "\t"]), !value.isEmpty else { return nil }
        if value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // More digits than a day's seconds need can only ask for the longest wait.
            guard value.utf8.count <= 6, let seconds = Int64(value) else { return longest }
            return min(.seconds(seconds), longest)
        }
        // IMF-fixdate is 29 characters, always in GMT (the formatter alone forgives a missing zone).
        guard value.utf8.count == 29, value.hasSuffix(" GMT"), let date = httpDate(value) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds <= 0 ? .zero : min(.milliseconds(Int64(min(seconds, 86_400) * 1000)), longest)
    }

    /// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    private static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
    }
}
