import Foundation

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

    package init(line: Data) {
        self.line = line
        self.fields = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] ?? [:]
    }

    package var correlationID: String? { fields["correlation_id"] as? String }
    package var decision: String? { fields["decision"] as? String }
    /// `event` for lines that are not decisions (`policy_change`, `resource_access`), else `decision`.
    package var event: String { fields["event"] as? String ?? "decision" }

    /// The line's own time, else now.
    package var time: Date {
        guard let text = fields["time"] as? String else { return Date() }
        return Self.timeFormat.date(from: text) ?? Self.plainTimeFormat.date(from: text) ?? Date()
    }

    package var text: String { String(decoding: line, as: UTF8.self) }

    nonisolated(unsafe) private static let timeFormat: ISO8601DateFormatter = {
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return format
    }()
    nonisolated(unsafe) private static let plainTimeFormat = ISO8601DateFormatter()
}

extension AuditRecord: @unchecked Sendable {}
