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

/// One audit line as read from the file: its bytes, and the few fields every sink maps.
package struct AuditRecord {
    package let line: Data
    package let fields: [String: Any]
    /// The line's own time, else when it was read.
    package let time: Date
    /// The line's time as written, when it is RFC 3339 as TenantGate writes it.
    package let timeText: String?

    package init(line: Data) {
        self.line = line
        let fields =
            Self.decisionFields(line) ?? (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] ?? [:]
        self.fields = fields
        let text = fields["time"] as? String
        let written = text.flatMap { RFC3339.date(from: $0) }
        self.time = written ?? Date()
        self.timeText = written == nil ? nil : text
    }

    /// The members of a decision line that sinks map.
    private static let decisionMembers: MemberNames = [
        "time", "decision", "directions", "creator_tenant", "sign_in_tenant", "host", "path", "client_id", "reason",
        "rule", "correlation_id", "error_code", "home_tenant", "setting", "event", "method",
    ]

    /// A decision line's members, read in one pass with the scanner token inspection uses (`JSONSerialization`
    /// took about 20 µs a line, and every sink reads every line); nil for anything else, such as a policy change,
    /// whose nested members `JSONSerialization` reads.
    private static func decisionFields(_ line: Data) -> [String: Any]? {
        guard let members = JSONObjectScanner.members(of: line, wanted: decisionMembers),
            members["event"]?.string?.hasPrefix("policy_change") != true
        else { return nil }
        let found = members.found
        var fields = [String: Any](minimumCapacity: found.count)  // grown a member at a time, it was rehashed 4 times
        for (name, value) in found {
            switch value {
            case .string(let text): fields[name] = text
            case .number(let number):
                fields[name] = number == number.rounded() ? Int(exactly: number) ?? number : number
            case .array: fields[name] = value.strings ?? []
            case .other: continue  // null, or a literal no sink maps
            }
        }
        return fields
    }

    package var correlationID: String? { fields["correlation_id"] as? String }
    package var decision: String? { fields["decision"] as? String }
    /// `event` for lines that are not decisions (`policy_change`, `resource_access`), else `decision`.
    package var event: String { fields["event"] as? String ?? "decision" }

    package var text: String { String(decoding: line, as: UTF8.self) }
}

extension AuditRecord: @unchecked Sendable {}
