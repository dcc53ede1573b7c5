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

        /// What a fleet deduplicates on: the pair, or the minute.
        package var key: String {
            switch self {
            case .newPair(let creator, let signIn, _, _, _, _, _): "new_tenant_pair:\(creator)>\(signIn)"
            case .refusalRate(let minute, _, _): "refusal_rate:\(Int(minute.timeIntervalSince1970))"
            }
        }
    }

    /// Pairs seen, as `creator>signIn`.
    package private(set) var seen: Set<String>
    /// Lines older than this only teach the pairs they show: the file's history when alerting began.
    private let alertsSince: Date
    private let refusalsPerMinute: Int
    private var refusals: [Date: Int] = [:]

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
        if let creator = record.string("creator_tenant"),
            let signIn = record.string("sign_in_tenant"),
            creator != signIn, seen.insert("\(creator)>\(signIn)").inserted, time >= alertsSince
        {
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
        }
        if refusalsPerMinute > 0, record.decision == "blocked", time >= alertsSince {
            let minute = Date(timeIntervalSince1970: (time.timeIntervalSince1970 / 60).rounded(.down) * 60)
            let count = refusals[minute, default: 0] + 1
            refusals[minute] = count
            if count == refusalsPerMinute + 1 {
                alerts.append(.refusalRate(minute: minute, count: count, threshold: refusalsPerMinute))
            }
            // Only the last few minutes can still grow.
            refusals = refusals.filter { $0.key > minute.addingTimeInterval(-600) }
        }
        return alerts
    }
}
