import Foundation
import Metrics

/// What in a run of audit lines deserves a message to the security team: the first attempt between a creator tenant
/// and a sign-in tenant never seen before (allowed or blocked), and refusals above a rate in a minute. A value fed
/// line by line; `AlertSink` sends what it returns.
package struct TenantPairAlerts: Sendable {
    package enum Alert: Equatable, Sendable {
        /// The first line of a pair: its fields, for the message.
        case newPair(
            creator: String,
            signIn: String,
            decision: String,
            directions: [String],
            host: String,
            time: String,
            correlationID: String
        )
        /// More than the threshold of refusals in the minute starting at `minute`.
        case refusalRate(minute: Date, count: Int, threshold: Int)
        /// More new pairs in the minute starting at `minute` than get an alert each: the rest of that minute's pairs
        /// are counted in this one alert. Many new tenants at once is itself the news (and a client forging tokens
        /// with a new `tid` for each request must not flood the team's channel or the webhook).
        case newPairFlood(minute: Date, threshold: Int)

        /// What a fleet deduplicates on: the pair, or the minute.
        package var key: String {
            switch self {
            case .newPair(let creator, let signIn, _, _, _, _, _): "new_tenant_pair:\(creator)>\(signIn)"
            case .refusalRate(let minute, _, _): "refusal_rate:\(Int(minute.timeIntervalSince1970))"
            case .newPairFlood(let minute, _): "new_tenant_pair_flood:\(Int(minute.timeIntervalSince1970))"
            }
        }
    }

    /// New pairs a minute that get an alert each; past it, one `newPairFlood` for the minute.
    package static let newPairAlertsPerMinute = 20
    /// Pairs remembered at most (about 8 MB and its file): past it, pairs are no longer learnt, and one not
    /// remembered is treated as new again, under the per-minute bound.
    package static let pairsKept = 100_000

    /// Pairs seen, as `creator>signIn`.
    package private(set) var seen: Set<String>
    /// Lines older than this only teach the pairs they show: the file's history when alerting began.
    private let alertsSince: Date
    private let refusalsPerMinute: Int
    private var refusals: [Date: Int] = [:]
    private var newPairs: [Date: Int] = [:]

    /// - Parameters:
    ///   - refusalsPerMinute: more refusals than this in a minute raise one alert for that minute; 0 never.
    package init(seen: Set<String>, alertsSince: Date, refusalsPerMinute: Int) {
        self.seen = seen
        self.alertsSince = alertsSince
        self.refusalsPerMinute = refusalsPerMinute
    }

    package mutating func observe(_ record: AuditRecord) -> [Alert] {
        var alerts: [Alert] = []
        let time = record.time
        let minute = Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 60).rounded(.down) * 60)
        if let creator = record.string("creator_tenant"),
            let signIn = record.string("sign_in_tenant"),
            creator != signIn, case let pair = "\(creator)>\(signIn)", !seen.contains(pair)
        {
            if seen.count < Self.pairsKept { seen.insert(pair) }
            if time >= alertsSince {
                switch Self.count(minute, in: &newPairs) {
                case ...Self.newPairAlertsPerMinute:
                    alerts.append(
                        .newPair(
                            creator: creator,
                            signIn: signIn,
                            decision: record.decision ?? "",
                            directions: record.strings("directions") ?? [],
                            host: record.string("host") ?? "",
                            time: record.string("time") ?? "",
                            correlationID: record.correlationID ?? ""
                        )
                    )
                case Self.newPairAlertsPerMinute + 1:
                    alerts.append(.newPairFlood(minute: minute, threshold: Self.newPairAlertsPerMinute))
                default:
                    break
                }
            }
        }
        if refusalsPerMinute > 0, record.decision == "blocked", time >= alertsSince,
            Self.count(minute, in: &refusals) == refusalsPerMinute + 1
        {
            alerts.append(.refusalRate(minute: minute, count: refusalsPerMinute + 1, threshold: refusalsPerMinute))
        }
        return alerts
    }

    /// Counts one more in `minute`, forgetting minutes ten or more before it (only the last few can still grow).
    private static func count(_ minute: Date, in counts: inout [Date: Int]) -> Int {
        let count = counts[minute, default: 0] + 1
        counts[minute] = count
        if counts.count > 10 { counts = counts.filter { $0.key > minute.addingTimeInterval(-600) } }
        return count
    }
}
