import Foundation

/// Audit lines as an OTLP `ExportLogsServiceRequest` in OTLP/HTTP's JSON encoding (the protobuf JSON mapping:
/// lowerCamelCase names, 64-bit integers as strings, enums as numbers).
///
/// Each line is one log record: its time, a severity (WARN for blocked, ERROR for error, INFO otherwise), the whole
/// line as the body, and attributes named after the semantic conventions where one exists (`event.name`,
/// `server.address`, `url.path`, `client.address`), under `tenantgate.` otherwise. The resource is `service.name: tenantgate` and
/// `host.name`.
package enum OTLPLogs {
    /// Audit field → attribute, in this order.
    static let attributeNames: [(field: StaticString, attribute: StaticString)] = [
        ("host", "server.address"), ("path", "url.path"), ("decision", "tenantgate.decision"),
        ("setting", "tenantgate.setting"), ("creator_tenant", "tenantgate.creator_tenant"),
        ("sign_in_tenant", "tenantgate.sign_in_tenant"), ("directions", "tenantgate.directions"),
        ("client_id", "tenantgate.client_id"), ("rule", "tenantgate.rule"),
        ("correlation_id", "tenantgate.correlation_id"), ("reason", "tenantgate.reason"),
        ("client_address", "client.address"),
    ]

    package static func request(_ records: [AuditRecord], hostname: String, observed: Date = Date()) -> [UInt8] {
        // The body escapes the whole line and the attributes repeat its members: sized from the lines, so the text
        // seldom has to grow (grown from a guess of 1 KiB a line, it was copied and page-faulted again and again).
        var json = JSONText(capacity: records.reduce(256) { $0 + $1.line.count * 2 + 768 })
        json.raw(#"{"resourceLogs":[{"resource":{"attributes":["#)
        attribute("service.name", "tenantgate", to: &json)
        json.raw(",")
        attribute("host.name", hostname, to: &json)
        json.raw(#"]},"scopeLogs":[{"scope":{"name":"tenantgate.audit"},"logRecords":["#)
        let observedTime = nanoseconds(observed)
        for (index, record) in records.enumerated() {
            ShippingThread.offerCore()
            if index > 0 { json.raw(",") }
            append(record, observed: observedTime, to: &json)
        }
        json.raw("]}]}]}")
        return json.bytes
    }

    private static func append(_ record: AuditRecord, observed: String, to json: inout JSONText) {
        let (number, text): (Int, String)
        switch record.decision {
        case "blocked": (number, text) = (13, "WARN")
        case "error": (number, text) = (17, "ERROR")
        default: (number, text) = (9, "INFO")
        }
        json.raw(#"{"timeUnixNano":""# + nanoseconds(record.time) + #"","observedTimeUnixNano":""# + observed)
        json.raw(#"","severityNumber":\#(number),"severityText":""# + text + #"","body":{"stringValue":"#)
        record.line.withUnsafeBufferPointer { json.string(utf8: $0) }
        json.raw(#"},"attributes":["#)
        attribute("event.name", "tenantgate.\(record.event)", to: &json)
        for (field, name) in attributeNames {
            // A decision line's strings are copied as written: they are JSON strings already.
            if let written = record.written(field) {
                guard !written.isEmpty else { continue }
                json.raw(#",{"key":""#)
                json.raw(name)
                json.raw(#"","value":{"stringValue":"#)
                written.write(to: &json)
                json.raw("}}")
            } else if let value = record.string(field) {
                guard !value.isEmpty else { continue }
                json.raw(",")
                attribute(name, value, to: &json)
            } else if let values = record.strings(field), !values.isEmpty {
                json.raw(#",{"key":""#)
                json.raw(name)
                json.raw(#"","value":{"arrayValue":{"values":["#)
                for (index, value) in values.enumerated() {
                    json.raw(index > 0 ? #",{"stringValue":"# : #"{"stringValue":"#)
                    json.string(value)
                    json.raw("}")
                }
                json.raw("]}}}")
            }
        }
        json.raw("]}")
    }

    private static func attribute(_ key: StaticString, _ value: String, to json: inout JSONText) {
        json.raw(#"{"key":""#)
        json.raw(key)
        json.raw(#"","value":{"stringValue":"#)
        json.string(value)
        json.raw("}}")
    }

    /// Whole microseconds, as nanoseconds. A line's own time may say any year to 9999 (a wrong clock, an edited
    /// file), past what UInt64 nanoseconds hold: such a time is written as the year 2286 rather than trap.
    private static func nanoseconds(_ date: Date) -> String {
        String(UInt64(min(max(0, date.timeIntervalSince1970) * 1_000_000, 1e16)) * 1_000)
    }
}
