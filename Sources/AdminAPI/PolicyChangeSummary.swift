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
        guard !JSONValue.same(was, now) else { return }
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
            let added = elements(of: nowList, notIn: wasList)
            let removed = elements(of: wasList, notIn: nowList)
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

    /// The elements of `list` that `other` does not hold.
    private static func elements(of list: [Any], notIn other: [Any]) -> [Any] {
        let held = Set(other.map(JSONValue.key))
        return list.filter { !held.contains(JSONValue.key($0)) }
    }

    /// Keys sorted and slashes unescaped, as `AdminJSON` prints.
    private static func canonical(_ value: Any) throws -> Data {
        try JSONSerialization.data(
            withJSONObject: value,
            options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        )
    }
}

/// Parsed JSON compared without printing it: Foundation's printing with sorted keys sorts through ICU, and printing
/// each level of two large documents to compare them (and each element of their lists to tell which differ) made one
/// rule added to 6,000 cost 5 s inside the policy writer, every tenant's changes waiting behind it (review 40 F1).
enum JSONValue {
    /// Whether `a` and `b` are the same JSON value.
    static func same(_ a: Any, _ b: Any) -> Bool {
        switch (a, b) {
        case (let a as [String: Any], let b as [String: Any]):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
        case (let a as [Any], let b as [Any]):
            return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
        case (let a as String, let b as String):
            return a == b
        case (is NSNull, is NSNull):
            return true
        case (let a as NSNumber, let b as NSNumber):
            return a == b && isBoolean(a) == isBoolean(b)
        default:
            return false
        }
    }

    /// A text that two values share exactly when they are the same JSON value (keys in order, strings quoted).
    static func key(_ value: Any) -> String {
        switch value {
        case let object as [String: Any]:
            return "{"
                + object.keys.sorted().map { "\($0.debugDescription):\(key(object[$0] ?? NSNull()))" }
                .joined(separator: ",") + "}"
        case let list as [Any]:
            return "[" + list.map(key).joined(separator: ",") + "]"
        case let string as String:
            return string.debugDescription
        case let number as NSNumber:
            return isBoolean(number) ? (number.boolValue ? "true" : "false") : number.stringValue
        default:
            return "null"
        }
    }

    /// JSON's `true` and `false` are NSNumbers of type `c` (`1` and `0` are `i`).
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
