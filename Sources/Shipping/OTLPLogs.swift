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
    static let attributeNames: [(field: String, attribute: String)] = [
        ("host", "server.address"), ("path", "url.path"), ("decision", "tenantgate.decision"),
        ("setting", "tenantgate.setting"), ("creator_tenant", "tenantgate.creator_tenant"),
        ("sign_in_tenant", "tenantgate.sign_in_tenant"), ("directions", "tenantgate.directions"),
        ("client_id", "tenantgate.client_id"), ("rule", "tenantgate.rule"),
        ("correlation_id", "tenantgate.correlation_id"), ("reason", "tenantgate.reason"),
    ]

    package static func request(_ records: [AuditRecord], hostname: String, observed: Date = Date()) -> Data {
        let logRecords = records.map { record(for: $0, observed: observed) }
        let request: [String: Any] = [
            "resourceLogs": [
                [
                    "resource": [
                        "attributes": [attribute("service.name", "tenantgate"), attribute("host.name", hostname)]
                    ],
                    "scopeLogs": [["scope": ["name": "tenantgate.audit"], "logRecords": logRecords]],
                ]
            ]
        ]
        return (try? JSONSerialization.data(withJSONObject: request, options: [.sortedKeys])) ?? Data()
    }

    private static func record(for record: AuditRecord, observed: Date) -> [String: Any] {
        let (number, text): (Int, String)
        switch record.decision {
        case "blocked": (number, text) = (13, "WARN")
        case "error": (number, text) = (17, "ERROR")
        default: (number, text) = (9, "INFO")
        }
        var attributes = [attribute("event.name", "tenantgate.\(record.event)")]
        for (field, name) in attributeNames {
            switch record.fields[field] {
            case let value as String where !value.isEmpty:
                attributes.append(attribute(name, value))
            case let values as [Any] where !values.isEmpty:
                let array = values.map { ["stringValue": "\($0)"] }
                attributes.append(["key": name, "value": ["arrayValue": ["values": array]]])
            default:
                continue
            }
        }
        return [
            "timeUnixNano": nanoseconds(record.time), "observedTimeUnixNano": nanoseconds(observed),
            "severityNumber": number, "severityText": text, "body": ["stringValue": record.text],
            "attributes": attributes,
        ]
    }

    private static func attribute(_ key: String, _ value: String) -> [String: Any] {
        ["key": key, "value": ["stringValue": value]]
    }

    private static func nanoseconds(_ date: Date) -> String {
        String(UInt64(max(0, date.timeIntervalSince1970) * 1_000_000) * 1_000)
    }
}
