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
        // Cut on the byte: `prefix(while:)` over Characters walked grapheme clusters on every exchange.
        self.path = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(path[..<$0]) } ?? path
        self.clientID = clientID
        self.reason = reason
        self.rule = rule
        self.correlationID = correlationID
    }

    /// The JSON line, newline included.
    public func jsonLine() -> [UInt8] {
        var line: [UInt8] = []
        appendJSONLine(to: &line)
        return line
    }

    /// Appends the JSON line, newline included, to `bytes` (a batch of lines). Hand-written, and without a String
    /// for the time, tenants or correlation ID: it is on every exchange's path.
    public func appendJSONLine(to bytes: inout [UInt8]) {
        var out = JSONLineWriter(continuing: bytes)
        bytes = []  // the writer now holds the only reference, so appending does not copy the batch
        out.begin()
        out.field("time") { AuditTime.appendRFC3339(time, to: &$0) }
        out.field("decision", string: decision.rawValue)
        out.field("directions", strings: directions.lazy.map(\.rawValue))
        out.field("creator_tenant", tenant: creatorTenant)
        out.field("sign_in_tenant", tenant: signInTenant)
        out.field("host", string: host)
        out.field("path", string: path)
        out.field("client_id", string: clientID)
        out.field("reason", string: reason)
        out.field("rule", string: rule)
        out.field("correlation_id") { correlationID.appendLowercased(to: &$0) }
        if let errorCode { out.field("error_code", number: errorCode) }
        if let homeTenant { out.field("home_tenant", tenant: homeTenant) }
        if let setting { out.field("setting", string: setting) }
        bytes = out.end()
    }
}

extension JSONLineWriter {
    fileprivate mutating func field(_ name: StaticString, tenant: TenantID?) {
        if let tenant {
            field(name) { tenant.appendCanonicalForm(to: &$0) }
        } else {
            field(name, string: nil)
        }
    }
}

extension UUID {
    /// The lowercase hyphenated form (`uuidString` is upper-case and would need a second String to lower it).
    fileprivate func appendLowercased(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(JSONLineWriter.hexDigit(byte >> 4))
                bytes.append(JSONLineWriter.hexDigit(byte & 0xF))
            }
        }
    }
}

/// RFC 3339 UTC timestamps with milliseconds, formatted as bytes without locale machinery or Strings.
enum AuditTime {
    static func appendRFC3339(_ date: Date, to bytes: inout [UInt8]) {
        let millisecondsSinceEpoch = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let seconds = millisecondsSinceEpoch.floorDiv(1000)
        let milliseconds = Int(millisecondsSinceEpoch - seconds * 1000)
        let days = seconds.floorDiv(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        appendDigits(year, 4, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(milliseconds, 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
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

    /// `value` in decimal, zero-padded to `width` digits (more when it needs them).
    private static func appendDigits(_ value: Int, _ width: Int, to bytes: inout [UInt8]) {
        var rest = max(value, 0)
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        while rest / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
