import Foundation
import Plumbing

/// An audit line as an RFC 5424 syslog message, framed by octet counting (RFC 6587 3.4.1, RFC 5425 4.3):
/// `LEN SP <PRI>1 TIMESTAMP HOSTNAME tenantgate - MSGID [tenantgate@32473 ...] MSG`.
///
/// Facility 13 (log audit); severity 4 (warning) for a blocked decision, 3 (error) for an error, 6 (informational)
/// otherwise. MSGID is the line's event (`decision`, `policy_change`, `resource_access`). The structured data
/// element carries the decision's fields, so a SIEM can filter without parsing the message; the message is the
/// audit line itself, whole. 32473 is the enterprise number RFC 5612 sets aside for documentation: a site that
/// registers its own replaces it by configuration of its receiver, not of TenantGate.
package enum SyslogMessage {
    /// The structured data's fields, in this order, when the line has them.
    static let structuredFields: [StaticString] = [
        "decision", "setting", "creator_tenant", "sign_in_tenant", "directions", "host", "path", "client_id",
        "correlation_id", "rule",
    ]

    /// The message with its length before it. Written as bytes: building it from Strings was most of a line's cost.
    package static func framed(_ record: AuditRecord, hostname: String) -> [UInt8] {
        let message = bytes(record, hostname: hostname)
        return Array("\(message.count) ".utf8) + message
    }

    static func format(_ record: AuditRecord, hostname: String) -> String {
        String(decoding: bytes(record, hostname: hostname), as: UTF8.self)
    }

    private static func bytes(_ record: AuditRecord, hostname: String) -> [UInt8] {
        let severity: Int
        switch record.decision {
        case "blocked": severity = 4
        case "error": severity = 3
        default: severity = 6
        }
        // The audit line's time is RFC 3339 already, as RFC 5424 wants it; anything else is written anew.
        let timestamp = record.timeText ?? RFC3339.string(from: record.time, milliseconds: true)
        var out: [UInt8] = []
        out.reserveCapacity(record.line.count * 2 + 128)
        out.append(
            contentsOf: "<\(13 * 8 + severity)>1 \(timestamp) \(header(hostname, limit: 255)) tenantgate - ".utf8
        )
        out.append(contentsOf: header(record.event).utf8)
        out.append(UInt8(ascii: " "))
        var opened = false
        for name in structuredFields {
            guard let value = text(record.value(name)) else { continue }
            out.append(contentsOf: (opened ? " " : "[tenantgate@32473 ").utf8)
            opened = true
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: "=\"".utf8)
            appendEscaped(value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: (opened ? "] " : "- ").utf8)
        out.append(contentsOf: record.line)
        return out
    }

    /// PARAM-VALUE escapes `"`, `\` and `]` (RFC 5424 6.3.3).
    private static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        let utf8 = value.utf8
        func escaped(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "]")
        }
        guard utf8.contains(where: escaped) else { return out.append(contentsOf: utf8) }
        for byte in utf8 {
            if escaped(byte) { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
    }

    /// A field as text: strings as they are, arrays joined with commas, null and absent as nothing.
    private static func text(_ value: Any?) -> String? {
        switch value {
        case let string as String: string.isEmpty ? nil : string
        case let list as [Any]: list.isEmpty ? nil : list.map { "\($0)" }.joined(separator: ",")
        case let number as Int: String(number)
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    /// Header fields are printable US-ASCII without spaces, at most 48 characters for MSGID, 255 for HOSTNAME.
    private static func header(_ value: String, limit: Int = 48) -> String {
        let printable = value.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.prefix(limit)
        return printable.isEmpty ? "-" : String(String.UnicodeScalarView(printable))
    }
}
