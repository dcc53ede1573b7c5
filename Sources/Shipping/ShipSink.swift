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

/// A sink's refusal that says when to try again (`Retry-After`, as `RetryAfter` reads it).
package struct ShipRetryAfter: Error, CustomStringConvertible {
    package let wait: Duration
    package let description: String
}

/// One audit line as read from the file: its bytes, and where the members every sink maps lie in them.
package struct AuditRecord {
    package let line: [UInt8]
    /// A decision line's members as spans of `line`: nothing is decoded, allocated or freed per member until a sink
    /// asks (a record of Strings took a quarter of the shipping thread to make and to free). Nil for any other line.
    private let decisionMembers: ScannedSpans?
    /// Any other line's members, as `JSONSerialization` reads them (a policy change nests objects); empty for a
    /// decision line, and for a line that is not a JSON object.
    package let otherMembers: [String: Any]
    /// The line's own time, else when it was read.
    package let time: Date
    /// Whether `time` is the line's own, written as RFC 3339 as TenantGate writes it.
    private let timeIsWritten: Bool

    package init(line data: Data) {
        // Sinks copy the line's bytes into their formats as they are: a line that is not UTF-8 (a damaged file) is
        // repaired once here, as reading it as a String would.
        var line = Array(data)
        if !line.withUnsafeBufferPointer(ByteText.isValidUTF8) {
            line = Array(String(decoding: line, as: UTF8.self).utf8)
        }
        self.line = line
        let decision = line.withUnsafeBufferPointer(Self.decisionMembers)
        decisionMembers = decision
        if let decision {
            otherMembers = [:]
            let written = decision["time"].flatMap { span in
                guard span.kind == .plainString else { return nil as Date? }
                return line.withUnsafeBufferPointer {
                    RFC3339.date(fromUTF8: UnsafeBufferPointer(rebasing: $0[span.range]))
                }
            }
            time = written ?? Date()
            timeIsWritten = written != nil
        } else {
            otherMembers = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            let written = (otherMembers["time"] as? String).flatMap(RFC3339.date(from:))
            time = written ?? Date()
            timeIsWritten = written != nil
        }
    }

    /// The members of a decision line that sinks map.
    private static let decisionNames: MemberNames = [
        "time", "decision", "directions", "creator_tenant", "sign_in_tenant", "host", "path", "client_id", "reason",
        "rule", "correlation_id", "error_code", "home_tenant", "setting", "event", "method", "client_address",
    ]

    /// A decision line's members, read in one pass with the scanner token inspection uses (`JSONSerialization`
    /// took about 20 µs a line, and every sink reads every line); nil for anything else, such as a policy change,
    /// whose nested members `JSONSerialization` reads.
    private static func decisionMembers(_ line: UnsafeBufferPointer<UInt8>) -> ScannedSpans? {
        guard let members = JSONObjectScanner.spans(in: line, wanted: decisionNames) else { return nil }
        let event = members["event"].flatMap { JSONObjectScanner.string($0, in: line) }
        return event?.hasPrefix("policy_change") == true ? nil : members
    }

    /// The line's time as written, when it is RFC 3339 as TenantGate writes it.
    package var timeText: String? { timeIsWritten ? string("time") : nil }

    /// The line's time in RFC 3339, as written when it was (`timeText`), else `time` written with milliseconds.
    func appendTime(to out: inout [UInt8]) {
        if timeIsWritten, withPlainString("time", { out.append(contentsOf: $0) }) != nil { return }
        RFC3339.append(time, milliseconds: true, to: &out)
    }

    /// A member as Foundation would read it: a string, a number (`Int` when whole), an array of strings, or for a
    /// line that is not a decision whatever `JSONSerialization` made of it; nil when absent or null.
    package func value(_ name: StaticString) -> Any? {
        guard let decisionMembers else { return otherMembers[name.description] }
        guard let span = decisionMembers[name] else { return nil }
        switch span.kind {
        case .plainString, .escapedString: return string(name)
        case .number:
            let number = line.withUnsafeBufferPointer { Double(String(decoding: $0[span.range], as: UTF8.self)) }
            guard let number else { return nil }
            return number == number.rounded() ? Int(exactly: number) ?? number : number
        case .array: return strings(name) ?? []
        case .other: return nil  // null, or a literal no sink maps
        }
    }

    /// A member that is a string.
    package func string(_ name: StaticString) -> String? {
        guard let decisionMembers else { return otherMembers[name.description] as? String }
        guard let span = decisionMembers[name] else { return nil }
        return line.withUnsafeBufferPointer { JSONObjectScanner.string(span, in: $0) }
    }

    /// A member that is an array, as text: a decision line's arrays hold strings; another line's elements are
    /// written as Swift prints them.
    package func strings(_ name: StaticString) -> [String]? {
        guard let decisionMembers else { return (otherMembers[name.description] as? [Any])?.map { "\($0)" } }
        guard let span = decisionMembers[name] else { return nil }
        return line.withUnsafeBufferPointer { JSONObjectScanner.strings(span, in: $0) }
    }

    /// Hands `body` the bytes of a decision line's string member when they need no decoding (no escapes): the
    /// sinks copy them as they are. Nil for anything else, which `string` and `value` read.
    func withPlainString<Result>(_ name: StaticString, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        guard let span = decisionMembers?[name], span.kind == .plainString else { return nil }
        return line.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[span.range])) }
    }

    /// A decision line's string member as written there, for a JSON format to copy; nil for anything else, which
    /// `string` and `value` read.
    func written(_ name: StaticString) -> WrittenString? {
        guard let span = decisionMembers?[name], span.kind == .plainString || span.kind == .escapedString else {
            return nil
        }
        return WrittenString(line: line, span: span)
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

/// A string member of an audit line as it is written there: a JSON format copies it (`JSONText.writtenString`)
/// without decoding it into a String and escaping it again.
package struct WrittenString: Equatable {
    fileprivate let line: [UInt8]
    fileprivate let span: MemberSpan

    /// The member's text, decoded.
    package var text: String { line.withUnsafeBufferPointer { JSONObjectScanner.string(span, in: $0) ?? "" } }

    /// Whether the string is empty (an escape is never empty).
    var isEmpty: Bool { span.range.isEmpty }

    func write(to json: inout JSONText) {
        line.withUnsafeBufferPointer { json.writtenString(UnsafeBufferPointer(rebasing: $0[span.range])) }
    }
}
