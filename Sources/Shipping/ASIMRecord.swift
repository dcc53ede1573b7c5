import Foundation
import Plumbing

/// An audit line as a row of Microsoft Sentinel's Advanced Security Information Model: a decision as an
/// Authentication event (schema 0.1.3), a policy change as an Audit event (schema 0.1). Each row also carries the
/// whole line in `AdditionalFields`, and the tenants in `TenantGateCreatorTenant` and `TenantGateSignInTenant`.
package enum ASIMRecord {
    package static func row(_ record: AuditRecord, device: String) -> ASIMRow {
        let time =
            record.written("time").map(ASIMRow.Value.written)
            ?? .text(record.string("time") ?? RFC3339.string(from: record.time, milliseconds: true))
        // The line itself when it is JSON, as it is; else as the string it is.
        var additional = record.line
        if !record.isJSONObject {
            var json = JSONText()
            json.raw(#"{"line":"#)
            json.string(record.text)
            json.raw("}")
            additional = json.bytes
        }
        var row = ASIMRow()
        row.set("TimeGenerated", time)
        row.set("EventStartTime", time)
        row.set("EventEndTime", time)
        row.set("EventCount", .number(1))
        row.set("EventProduct", .text("TenantGate"))
        row.set("EventVendor", .text("TenantGate"))
        row.set("Dvc", .text(device))
        row.set("EventOriginalUid", member("correlation_id", of: record) ?? .text(""))
        row.set("AdditionalFields", .json(additional))
        if record.event.hasPrefix("policy_change") {
            auditEvent(record.otherMembers, failed: record.event == "policy_change_failed", into: &row)
        } else {
            authentication(record, into: &row)
        }
        return row
    }

    /// The token exchange (or resource request) as a logon to the sign-in tenant by a connection of the creator's.
    private static func authentication(_ record: AuditRecord, into row: inout ASIMRow) {
        let decision = record.decision ?? ""
        let (result, severity): (String, String)
        switch decision {
        case "blocked": (result, severity) = ("Failure", "Medium")
        case "error": (result, severity) = ("Failure", "Low")
        case "would_block": (result, severity) = ("Success", "Low")
        default: (result, severity) = ("Success", "Informational")
        }
        row.set("EventSchema", .text("Authentication"))
        row.set("EventSchemaVersion", .text("0.1.3"))
        row.set("EventType", .text("Logon"))
        row.set("EventResult", .text(result))
        row.set("EventSeverity", .text(severity))
        row.set("EventResultDetails", .text(record.string("setting").map { "\(decision): \($0)" } ?? decision))
        let host = record.string("host") ?? ""
        if !host.isEmpty {
            row.set("TargetAppName", .text(host))
            row.set("TargetUrl", .text("https://\(host)\(record.string("path") ?? "")"))
        }
        if let client = member("client_id", of: record) { row.set("TargetAppId", client) }
        if let creator = member("creator_tenant", of: record) { row.set("TenantGateCreatorTenant", creator) }
        if let signIn = member("sign_in_tenant", of: record) {
            row.set("TenantGateSignInTenant", signIn)
            row.set("TargetDvcScopeId", signIn)
        }
        if let reason = member("reason", of: record) { row.set("EventMessage", reason) }
        if let address = member("client_address", of: record) { row.set("SrcIpAddr", address) }
    }

    /// A string member: copied as written from a decision line, else read.
    private static func member(_ name: StaticString, of record: AuditRecord) -> ASIMRow.Value? {
        record.written(name).map(ASIMRow.Value.written) ?? record.string(name).map(ASIMRow.Value.text)
    }

    /// An administrator's change to a tenant's policy.
    private static func auditEvent(_ fields: [String: Any], failed: Bool, into row: inout ASIMRow) {
        let actor = fields["actor"] as? [String: Any] ?? [:]
        row.set("EventSchema", .text("AuditEvent"))
        row.set("EventSchemaVersion", .text("0.1"))
        row.set("EventType", .text("Set"))
        row.set("EventResult", .text(failed ? "Failure" : "Success"))
        row.set("EventSeverity", .text(failed ? "Low" : "Informational"))
        row.set("Operation", .text(fields["operation"] as? String ?? (failed ? "change not applied" : "change")))
        row.set("Object", .text(fields["resource"] as? String ?? "tenant policy"))
        row.set("ObjectType", .text("Policy Rule"))
        if let tenant = fields["tenant"] as? String { row.set("TenantGateCreatorTenant", .text(tenant)) }
        if let id = actor["object_id"] as? String { row.set("ActorUserId", .text(id)) }
        if let name = actor["name"] as? String { row.set("ActorUsername", .text(name)) }
        if let tenant = actor["tenant"] as? String { row.set("ActorScopeId", .text(tenant)) }
        if let app = actor["application_id"] as? String { row.set("ActingAppId", .text(app)) }
        for (field, column): (String, StaticString) in [("before", "OldValue"), ("after", "NewValue")] {
            // A bare string or number is written too: without `.fragmentsAllowed`, Foundation on Linux stops the
            // process (fatalError) rather than throw, and an edited line may hold one.
            if let value = fields[field], !(value is NSNull),
                let data = try? JSONSerialization.data(
                    withJSONObject: value,
                    options: [.sortedKeys, .fragmentsAllowed]
                )
            {
                row.set(column, .text(String(decoding: data, as: UTF8.self)))
            }
        }
    }
}

/// One row: its columns in the order the mapping sets them, which is the order they are written in (the API reads
/// them by name). Typed, so a row is written without boxing, hashing or sorting its columns (a dictionary sorted for
/// every row was half the Sentinel sink's time).
package struct ASIMRow {
    package enum Value: Equatable {
        case text(String)
        case number(Int)
        /// JSON already (the whole audit line).
        case json([UInt8])
        /// A string member of the audit line, copied as written.
        case written(WrittenString)
    }

    private var columns: [(name: StaticString, value: Value)] = []

    init() {
        columns.reserveCapacity(24)
    }

    /// Adds a column: the mapping names each column once.
    mutating func set(_ name: StaticString, _ value: Value) {
        columns.append((name, value))
    }

    /// A column's value; a string copied from the line reads as `.text`.
    package subscript(name: String) -> Value? {
        guard let value = columns.first(where: { $0.name.description == name })?.value else { return nil }
        if case .written(let written) = value { return .text(written.text) }
        return value
    }

    /// Log Analytics keeps at most 32 KB of a string column; a longer value is cut there anyway.
    static let columnLimit = 32 * 1024

    /// The row with every value past `columnLimit` cut to it (a string, marked as cut) or replaced (the line in
    /// `AdditionalFields`: `{"shortened": true, "bytes": N}`): a policy change of thousands of rules made one row
    /// larger than a whole call may be. The audit log keeps the line whole.
    func shortened() -> ASIMRow {
        var shortened = self
        shortened.columns = columns.map { column in
            switch column.value {
            case .json(let line) where line.count > Self.columnLimit:
                return (column.name, .json(Array(#"{"shortened":true,"bytes":\#(line.count)}"#.utf8)))
            case .text(let text) where text.utf8.count > Self.columnLimit:
                return (column.name, .text(Self.cut(text)))
            case .written(let written) where written.text.utf8.count > Self.columnLimit:
                return (column.name, .text(Self.cut(written.text)))
            default:
                return column
            }
        }
        return shortened
    }

    private static func cut(_ text: String) -> String {
        let marker = " [shortened from \(text.utf8.count) bytes]"
        var kept = Substring(text).utf8.prefix(columnLimit - marker.utf8.count)
        // On a character's boundary: at most three bytes of a cut character are given back.
        while !kept.isEmpty {
            if let whole = String(kept) { return whole + marker }
            kept = kept.dropLast()
        }
        return marker
    }

    /// The row as a JSON object.
    func json(to json: inout JSONText) {
        json.raw("{")
        for (index, (name, value)) in columns.enumerated() {
            if index > 0 { json.raw(",") }
            json.name(name)
            switch value {
            case .text(let text): json.string(text)
            case .number(let number): json.raw(String(number))
            case .json(let line): json.raw(line)
            case .written(let written): written.write(to: &json)
            }
        }
        json.raw("}")
    }
}
