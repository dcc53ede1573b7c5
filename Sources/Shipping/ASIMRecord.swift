import Foundation

/// An audit line as a row of Microsoft Sentinel's Advanced Security Information Model: a decision as an
/// Authentication event (schema 0.1.3), a policy change as an Audit event (schema 0.1). Each row also carries the
/// whole line in `AdditionalFields`, and the tenants in `TenantGateCreatorTenant` and `TenantGateSignInTenant`.
package enum ASIMRecord {
    package static func row(_ record: AuditRecord, device: String) -> [String: Any] {
        let time = record.string("time") ?? ISO8601DateFormatter().string(from: record.time)
        // The line itself when it is JSON, as it is; else as the string it is.
        var additional = JSONText()
        if !record.isJSONObject {
            additional.raw(#"{"line":"#)
            additional.string(record.text)
            additional.raw("}")
        } else {
            additional.raw(record.line)
        }
        // One dictionary, sized once, that each schema adds to: merging a second one was a fifth of a row's cost.
        var row = [String: Any](minimumCapacity: 32)
        for column in ["TimeGenerated", "EventStartTime", "EventEndTime"] { row[column] = time }
        row["EventCount"] = 1
        row["EventProduct"] = "TenantGate"
        row["EventVendor"] = "TenantGate"
        row["Dvc"] = device
        row["EventOriginalUid"] = record.correlationID ?? ""
        row["AdditionalFields"] = RawJSON(bytes: additional.bytes)
        if record.event.hasPrefix("policy_change") {
            auditEvent(record.otherMembers, failed: record.event == "policy_change_failed", into: &row)
        } else {
            authentication(record, into: &row)
        }
        return row
    }

    /// A value that is JSON already.
    package struct RawJSON {
        package let bytes: [UInt8]
    }

    /// A row as a JSON object: its strings, numbers and `RawJSON`, in a fixed order.
    static func json(_ row: [String: Any], to json: inout JSONText) {
        json.raw("{")
        for (index, (column, value)) in row.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { json.raw(",") }
            json.key(column)
            switch value {
            case let text as String: json.string(text)
            case let number as Int: json.raw(String(number))
            case let raw as RawJSON: json.raw(raw.bytes)
            default: json.raw("null")
            }
        }
        json.raw("}")
    }

    /// The token exchange (or resource request) as a logon to the sign-in tenant by a connection of the creator's.
    private static func authentication(_ record: AuditRecord, into row: inout [String: Any]) {
        let decision = record.decision ?? ""
        let (result, severity): (String, String)
        switch decision {
        case "blocked": (result, severity) = ("Failure", "Medium")
        case "error": (result, severity) = ("Failure", "Low")
        case "would_block": (result, severity) = ("Success", "Low")
        default: (result, severity) = ("Success", "Informational")
        }
        row["EventSchema"] = "Authentication"
        row["EventSchemaVersion"] = "0.1.3"
        row["EventType"] = "Logon"
        row["EventResult"] = result
        row["EventSeverity"] = severity
        row["EventResultDetails"] = [decision, record.string("setting")].compactMap { $0 }.joined(separator: ": ")
        let host = record.string("host") ?? ""
        if !host.isEmpty {
            row["TargetAppName"] = host
            row["TargetUrl"] = "https://\(host)\(record.string("path") ?? "")"
        }
        if let client = record.string("client_id") { row["TargetAppId"] = client }
        if let creator = record.string("creator_tenant") { row["TenantGateCreatorTenant"] = creator }
        if let signIn = record.string("sign_in_tenant") {
            row["TenantGateSignInTenant"] = signIn
            row["TargetDvcScopeId"] = signIn
        }
        if let reason = record.string("reason") { row["EventMessage"] = reason }
    }

    /// An administrator's change to a tenant's policy.
    private static func auditEvent(_ fields: [String: Any], failed: Bool, into row: inout [String: Any]) {
        let actor = fields["actor"] as? [String: Any] ?? [:]
        row["EventSchema"] = "AuditEvent"
        row["EventSchemaVersion"] = "0.1"
        row["EventType"] = "Set"
        row["EventResult"] = failed ? "Failure" : "Success"
        row["EventSeverity"] = failed ? "Low" : "Informational"
        row["Operation"] = fields["operation"] as? String ?? (failed ? "change not applied" : "change")
        row["Object"] = fields["resource"] as? String ?? "tenant policy"
        row["ObjectType"] = "Policy Rule"
        if let tenant = fields["tenant"] as? String { row["TenantGateCreatorTenant"] = tenant }
        if let id = actor["object_id"] as? String { row["ActorUserId"] = id }
        if let name = actor["name"] as? String { row["ActorUsername"] = name }
        if let tenant = actor["tenant"] as? String { row["ActorScopeId"] = tenant }
        if let app = actor["application_id"] as? String { row["ActingAppId"] = app }
        for (field, column) in [("before", "OldValue"), ("after", "NewValue")] {
            if let value = fields[field], !(value is NSNull),
                let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
            {
                row[column] = String(decoding: data, as: UTF8.self)
            }
        }
    }
}
