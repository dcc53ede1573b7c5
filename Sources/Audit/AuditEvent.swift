import Foundation
import TenantPolicy

/// The decision an audit line records (SPEC 4).
public enum AuditDecision: String, Sendable, Equatable, CaseIterable {
    case allowed
    case blocked
    case wouldBlock = "would_block"
    case unenforced
    case error
}

/// One audit line: one evaluated token exchange, with exactly SPEC 4's fields and optional extras after them.
///
/// Holds no secrets by construction: only tenants, host, path without query, client ID and sentences.
public struct AuditEvent: Sendable, Equatable {
    public var time: Date
    public var decision: AuditDecision
    public var directions: [Direction]
    public var creatorTenant: TenantID?
    public var signInTenant: TenantID?
    public var host: String
    /// The request path without its query string.
    public var path: String
    public var clientID: String?
    public var reason: String
    public var rule: String?
    public var correlationID: UUID
    /// The Entra error code answered, for refusals.
    public var errorCode: Int?
    /// A guest's home tenant.
    public var homeTenant: TenantID?
    /// The setting that decided (`tenantIsolation`, `b2bCollaborationInbound`, …), when one was judged.
    public var setting: String?

    public init(
        time: Date, decision: AuditDecision, directions: [Direction], creatorTenant: TenantID?, signInTenant: TenantID?,
        host: String, path: String, clientID: String?, reason: String, rule: String?, correlationID: UUID
    ) {
        self.time = time
        self.decision = decision
        self.directions = directions
        self.creatorTenant = creatorTenant
        self.signInTenant = signInTenant
        self.host = host
        self.path = String(path.prefix { $0 != "?" })
        self.clientID = clientID
        self.reason = reason
        self.rule = rule
        self.correlationID = correlationID
    }

    /// The JSON line, newline included. Hand-written: it is on every exchange's path.
    public func jsonLine() -> [UInt8] {
        var out = JSONLineWriter()
        out.begin()
        out.field("time", string: AuditTime.rfc3339(time))
        out.field("decision", string: decision.rawValue)
        out.field("directions", strings: directions.map(\.rawValue))
        out.field("creator_tenant", string: creatorTenant?.description)
        out.field("sign_in_tenant", string: signInTenant?.description)
        out.field("host", string: host)
        out.field("path", string: path)
        out.field("client_id", string: clientID)
        out.field("reason", string: reason)
        out.field("rule", string: rule)
        out.field("correlation_id", string: correlationID.uuidString.lowercased())
        if let errorCode { out.field("error_code", number: errorCode) }
        if let homeTenant { out.field("home_tenant", string: homeTenant.description) }
        if let setting { out.field("setting", string: setting) }
        return out.end()
    }
}

/// RFC 3339 UTC timestamps with milliseconds, formatted without locale machinery.
enum AuditTime {
    static func rfc3339(_ date: Date) -> String {
        let millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millisecondsSinceEpoch.floorDiv(1000)
        let milliseconds = Int(millisecondsSinceEpoch - seconds * 1000)
        let days = seconds.floorDiv(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(milliseconds, 3))Z"
    }

    /// Howard Hinnant's days-to-civil algorithm.
    private static func civilDate(daysSinceEpoch: Int64) -> (Int, Int, Int) {
        let z = daysSinceEpoch + 719_468
        let era = z.floorDiv(146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
