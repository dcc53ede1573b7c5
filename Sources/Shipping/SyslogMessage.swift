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
        "correlation_id", "rule", "client_address",
    ]

    /// The message with its length before it. Written as bytes: building it from Strings was most of a line's cost.
    package static func framed(_ record: AuditRecord, hostname: String) -> [UInt8] {
        var framed: [UInt8] = []
        var scratch: [UInt8] = []
        append(record, hostname: hostnameField(hostname), to: &framed, scratch: &scratch)
        return framed
    }

    static func format(_ record: AuditRecord, hostname: String) -> String {
        var message: [UInt8] = []
        write(record, hostname: hostnameField(hostname), to: &message)
        return String(decoding: message, as: UTF8.self)
    }

    /// Appends the framed message to `out`; `hostname` is the HOSTNAME field as `hostnameField` makes it (once, not
    /// for every line), `scratch` a buffer the message is written in first, kept by the caller to be reused.
    static func append(_ record: AuditRecord, hostname: [UInt8], to out: inout [UInt8], scratch: inout [UInt8]) {
        scratch.removeAll(keepingCapacity: true)
        write(record, hostname: hostname, to: &scratch)
        out.append(contentsOf: String(scratch.count).utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: scratch)
    }

    /// The HOSTNAME field for `hostname`.
    static func hostnameField(_ hostname: String) -> [UInt8] { Array(header(hostname, limit: 255)) }

    private static func write(_ record: AuditRecord, hostname: [UInt8], to out: inout [UInt8]) {
        let severity: Int
        switch record.decision {
        case "blocked": severity = 4
        case "error": severity = 3
        default: severity = 6
        }
        out.reserveCapacity(record.line.count * 2 + 128)
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: String(13 * 8 + severity).utf8)
        out.append(contentsOf: ">1 ".utf8)
        // The audit line's time is RFC 3339 already, as RFC 5424 wants it; anything else is written anew.
        record.appendTime(to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: hostname)
        out.append(contentsOf: " tenantgate - ".utf8)
        out.append(contentsOf: header(record.event))
        out.append(UInt8(ascii: " "))
        var opened = false
        for name in structuredFields {
            let written = record.withPlainString(name) { value -> Bool in
                guard !value.isEmpty else { return false }
                openParameter(name, opened: opened, to: &out)
                appendEscaped(value, to: &out)
                out.append(UInt8(ascii: "\""))
                return true
            }
            if let written {
                opened = opened || written
                continue
            }
            guard var value = text(record.value(name)) else { continue }
            openParameter(name, opened: opened, to: &out)
            value.withUTF8 { appendEscaped($0, to: &out) }
            out.append(UInt8(ascii: "\""))
            opened = true
        }
        out.append(contentsOf: (opened ? "] " : "- ").utf8)
        out.append(contentsOf: record.line)
    }

    /// Opens the element, or separates this parameter from the one before, then writes `name="`.
    private static func openParameter(_ name: StaticString, opened: Bool, to out: inout [UInt8]) {
        out.append(contentsOf: (opened ? " " : "[tenantgate@32473 ").utf8)
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(contentsOf: "=\"".utf8)
    }

    /// PARAM-VALUE escapes `"`, `\` and `]` (RFC 5424 6.3.3).
    /// RFC 5424's three escapes, and a control written as `#` and three octal digits a byte, as rsyslog writes them:
    /// C0 and DEL (raw, a client's `client_id` holding a line break forged a whole second message for a reader that
    /// goes a line at a time, review 57) and `InvisibleControls` (C1, separators, bidirectional; review 58).
    private static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        func appendOctal(_ byte: UInt8) {
            out.append(UInt8(ascii: "#"))
            for shift in [6, 3, 0] { out.append(UInt8(ascii: "0") + (byte >> UInt8(shift)) & 7) }
        }
        var runStart = 0
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            let invisible = InvisibleControls.mayStart(byte) ? InvisibleControls.sequence(in: utf8, at: index) : nil
            let special = byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "]")
            guard special || byte < 0x20 || byte == 0x7F || invisible != nil else {
                index += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
            if special {
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
                index += 1
            } else {
                let length = invisible?.length ?? 1
                for offset in 0..<length { appendOctal(utf8[index + offset]) }
                index += length
            }
            runStart = index
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
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

    /// Header fields are printable US-ASCII without spaces, at most 48 characters for MSGID, 255 for HOSTNAME. Bytes
    /// are filtered, not scalars: every byte of a scalar beyond ASCII is 0x80 or more, so both keep the same.
    private static func header(_ value: String, limit: Int = 48) -> ArraySlice<UInt8> {
        let printable = value.utf8.filter { $0 > 32 && $0 < 127 }.prefix(limit)
        return printable.isEmpty ? [UInt8(ascii: "-")] : printable
    }
}
