import Foundation
import Plumbing
import TokenInspection

/// Where audit lines are shipped. `deliver` returns once the sink has acknowledged the whole batch, and throws
/// otherwise; the shipper then sends the same batch again, so a sink sees a line at least once.
package protocol ShipSink: Sendable {
    /// A name for logs and metrics, and the position file's: the destination without secrets.
    var name: String { get }
    /// The most lines, and about the most bytes, of one batch: what one delivery may send again.
    var batchLimits: (lines: Int, bytes: Int) { get }
    func deliver(_ lines: [AuditRecord]) async throws
    func shutdown() async
}

extension ShipSink {
    package var batchLimits: (lines: Int, bytes: Int) { (500, 1 << 20) }
}

/// A sink's refusal that says when to try again (`Retry-After`).
package struct ShipRetryAfter: Error, CustomStringConvertible {
    package let seconds: Double
    package let description: String
}

/// One audit line as read from the file: its bytes, and the members every sink maps.
package struct AuditRecord {
    package let line: Data
    /// A decision line's members as the scanner read them: no dictionary to build, hash and free for every line
    /// (those were a quarter of the shipping thread's time). Nil for any other line.
    private let decisionMembers: ScannedMembers?
    /// Any other line's members, as `JSONSerialization` reads them (a policy change nests objects); empty for a
    /// decision line, and for a line that is not a JSON object.
    package let otherMembers: [String: Any]
    /// The line's own time, else when it was read.
    package let time: Date
    /// The line's time as written, when it is RFC 3339 as TenantGate writes it.
    package let timeText: String?

    package init(line: Data) {
        self.line = line
        let decision = Self.decisionMembers(line)
        decisionMembers = decision
        otherMembers =
            decision != nil ? [:] : (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] ?? [:]
        let text = decision?["time"]?.string ?? otherMembers["time"] as? String
        let written = text.flatMap { RFC3339.date(from: $0) }
        self.time = written ?? Date()
        self.timeText = written == nil ? nil : text
    }

    /// The members of a decision line that sinks map.
    private static let decisionNames: MemberNames = [
        "time", "decision", "directions", "creator_tenant", "sign_in_tenant", "host", "path", "client_id", "reason",
        "rule", "correlation_id", "error_code", "home_tenant", "setting", "event", "method",
    ]

    /// A decision line's members, read in one pass with the scanner token inspection uses (`JSONSerialization`
    /// took about 20 µs a line, and every sink reads every line); nil for anything else, such as a policy change,
    /// whose nested members `JSONSerialization` reads.
    private static func decisionMembers(_ line: Data) -> ScannedMembers? {
        guard let members = JSONObjectScanner.members(of: line, wanted: decisionNames),
            members["event"]?.string?.hasPrefix("policy_change") != true
        else { return nil }
        return members
    }

    /// A member as Foundation would read it: a string, a number (`Int` when whole), an array of strings, or for a
    /// line that is not a decision whatever `JSONSerialization` made of it; nil when absent or null.
    package func value(_ name: StaticString) -> Any? {
        guard let decisionMembers else { return otherMembers[name.description] }
        guard let member = decisionMembers[name] else { return nil }
        switch member {
        case .string(let text): return text
        case .number(let number): return number == number.rounded() ? Int(exactly: number) ?? number : number
        case .array: return member.strings ?? []
        case .other: return nil  // null, or a literal no sink maps
        }
    }

    /// A member that is a string.
    package func string(_ name: StaticString) -> String? {
        guard let decisionMembers else { return otherMembers[name.description] as? String }
        return decisionMembers[name]?.string
    }

    /// A member that is an array, as text: a decision line's arrays hold strings; another line's elements are
    /// written as Swift prints them.
    package func strings(_ name: StaticString) -> [String]? {
        guard let decisionMembers else { return (otherMembers[name.description] as? [Any])?.map { "\($0)" } }
        return decisionMembers[name]?.strings
    }

    /// Whether the line is a JSON object with members: anything else ships as a string.
    package var isJSONObject: Bool { decisionMembers.map { !$0.isEmpty } ?? !otherMembers.isEmpty }

    package var correlationID: String? { string("correlation_id") }
    package var decision: String? { string("decision") }
    /// `event` for lines that are not decisions (`policy_change`, `resource_access`), else `decision`.
    package var event: String { string("event") ?? "decision" }

    package var text: String { String(decoding: line, as: UTF8.self) }
}

extension AuditRecord: @unchecked Sendable {}
