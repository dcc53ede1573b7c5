import Foundation

/// Audit lines as an OTLP `ExportLogsServiceRequest` in OTLP/HTTP's JSON encoding (the protobuf JSON mapping:
/// lowerCamelCase names, 64-bit integers as strings, enums as numbers).
///
/// Each line is one log record: its time, a severity (WARN for blocked, ERROR for error, INFO otherwise), the whole
/// line as the body, and attributes named after the semantic conventions where one exists (`event.name`,
/// `server.address`, `url.path`), under `tenantgate.` otherwise. The resource is `service.name: tenantgate` and
/// `host.name`.
package enum OTLPLogs {
    /// Audit field → attribute, in this order.
    static let attributeNames: [(field: StaticString, attribute: String)] = [
        ("host", "server.address"), ("path", "url.path"), ("decision", "tenantgate.decision"),
        ("setting", "tenantgate.setting"), ("creator_tenant", "tenantgate.creator_tenant"),
        ("sign_in_tenant", "tenantgate.sign_in_tenant"), ("directions", "tenantgate.directions"),
        ("client_id", "tenantgate.client_id"), ("rule", "tenantgate.rule"),
        ("correlation_id", "tenantgate.correlation_id"), ("reason", "tenantgate.reason"),
    ]

    package static func request(_ records: [AuditRecord], hostname: String, observed: Date = Date()) -> [UInt8] {
        var json = JSONText(capacity: records.count * 1024)
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
        json.string(record.text)
        json.raw(#"},"attributes":["#)
        attribute("event.name", "tenantgate.\(record.event)", to: &json)
        for (field, name) in attributeNames {
            switch record.value(field) {
            case let value as String where !value.isEmpty:
                json.raw(",")
                attribute(name, value, to: &json)
            case let values as [Any] where !values.isEmpty:
                json.raw(",{")
                json.key("key")
                json.string(name)
                json.raw(#","value":{"arrayValue":{"values":["#)
                for (index, value) in values.enumerated() {
                    json.raw(index > 0 ? #",{"stringValue":"# : #"{"stringValue":"#)
                    json.string("\(value)")
                    json.raw("}")
                }
                json.raw("]}}}")
            default:
                continue
            }
        }
        json.raw("]}")
    }

    private static func attribute(_ key: String, _ value: String, to json: inout JSONText) {
        json.raw(#"{"key":"#)
        json.string(key)
        json.raw(#","value":{"stringValue":"#)
        json.string(value)
        json.raw("}}")
    }

    private static func nanoseconds(_ date: Date) -> String {
        String(UInt64(max(0, date.timeIntervalSince1970) * 1_000_000) * 1_000)
    }
}
