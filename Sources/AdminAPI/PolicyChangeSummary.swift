import Crypto
import Foundation

/// A `policy_change` line too long to ship whole, summarized: every sink takes lines of at most 1 MiB, and a tenant of
/// some thousands of rules wrote its before and after in 2 MiB, which reached the SIEM as three fragments of no
/// event at all (review 32). The summary keeps every member of the line but the two documents, which become their
/// size and SHA-256 (`{"bytes", "sha256"}`, or null for none), and adds `changes`: per member of the documents that
/// differs, the elements a list gained and lost, or the member's value before and after. Changes too long themselves
/// (a whole import) are counted instead, and past that only their number is given.
enum PolicyChangeSummary {
    /// A line up to this size keeps its documents.
    static let lineLimit = 256 << 10

    /// `line` (a whole `policy_change` line, newline included) as it is when within `lineLimit`, else summarized.
    static func bounded(_ line: [UInt8]) throws -> [UInt8] {
        guard line.count > lineLimit,
            var object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        else { return line }
        let before = object["before"] ?? NSNull()
        let after = object["after"] ?? NSNull()
        object["before"] = try digest(before)
        object["after"] = try digest(after)
        object["documents"] = "summarized"
        var changes: Any = try changes(from: before, to: after, counted: false)
        if try canonical(changes).count > lineLimit / 2 {
            let counted = try self.changes(from: before, to: after, counted: true)
            // So many members changed that even their names are too long: how many, then.
            changes = try canonical(counted).count > lineLimit / 2 ? counted.count : counted
        }
        object["changes"] = changes
        return Array(try canonical(object)) + [UInt8(ascii: "\n")]
    }

    /// A document's size and SHA-256 in its canonical printing; null for none.
    private static func digest(_ document: Any) throws -> Any {
        if document is NSNull { return NSNull() }
        let bytes = try canonical(document)
        let hash = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        return ["bytes": bytes.count, "sha256": hash] as [String: Any]
    }

    /// Per member that differs, by its path (`properties.allowedTenants`; objects are gone into, in name order): what
    /// a list gained and lost (`added`, `removed`: the elements, or with `counted` their numbers), or the value
    /// `before` and `after` (with `counted`: `changed`).
    private static func changes(from before: Any, to after: Any, counted: Bool) throws -> [[String: Any]] {
        var changes: [[String: Any]] = []
        try collectChanges(from: before, to: after, at: nil, counted: counted, into: &changes)
        return changes
    }

    private static func collectChanges(
        from was: Any,
        to now: Any,
        at path: String?,
        counted: Bool,
        into changes: inout [[String: Any]]
    ) throws {
        guard try canonical(was) != canonical(now) else { return }
        let wasObject = was as? [String: Any] ?? (was is NSNull && path == nil ? [:] : nil)
        let nowObject = now as? [String: Any] ?? (now is NSNull && path == nil ? [:] : nil)
        if let wasObject, let nowObject {
            for member in Set(wasObject.keys).union(nowObject.keys).sorted() {
                try collectChanges(
                    from: wasObject[member] ?? NSNull(),
                    to: nowObject[member] ?? NSNull(),
                    at: path.map { "\($0).\(member)" } ?? member,
                    counted: counted,
                    into: &changes
                )
            }
            return
        }
        var change: [String: Any] = ["member": path ?? ""]
        if let wasList = was as? [Any], let nowList = now as? [Any] {
            let added = try elements(of: nowList, notIn: wasList)
            let removed = try elements(of: wasList, notIn: nowList)
            change["added"] = counted ? added.count : added
            change["removed"] = counted ? removed.count : removed
        } else if counted {
            change["changed"] = true
        } else {
            change["before"] = was
            change["after"] = now
        }
        changes.append(change)
    }

    /// The elements of `list` that `other` does not hold, compared in canonical printing, as text: its hash reads
    /// every byte, where `Data`'s reads a short prefix, which every rule of an allowlist shares (the set went
    /// quadratic, and adding one rule to 6,000 took 10 s inside the policy writer, every tenant's changes waiting
    /// behind it; review 40 F1).
    private static func elements(of list: [Any], notIn other: [Any]) throws -> [Any] {
        let held = Set(try other.map(canonicalText))
        return try list.filter { !held.contains(try canonicalText($0)) }
    }

    private static func canonicalText(_ value: Any) throws -> String {
        String(decoding: try canonical(value), as: UTF8.self)
    }

    /// Keys sorted and slashes unescaped, as `AdminJSON` prints.
    private static func canonical(_ value: Any) throws -> Data {
        try JSONSerialization.data(
            withJSONObject: value,
            options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        )
    }
}
