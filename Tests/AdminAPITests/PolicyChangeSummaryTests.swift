import Foundation
import Testing

@testable import AdminAPI

/// A `policy_change` line too long for a sink keeps every member but its documents, which become digests, and says
/// what changed (review 32: lines of 2 MiB reached the SIEM as fragments).
struct PolicyChangeSummaryTests {
    static func rules(_ count: Int, from start: Int = 0) -> [[String: Any]] {
        (start..<start + count).map {
            ["tenantId": String(format: "00000000-0000-4000-8000-%012d", $0), "inbound": true]
        }
    }

    static func line(before: Any, after: Any) throws -> [UInt8] {
        let object: [String: Any] = [
            "event": "policy_change", "correlation_id": "c1", "tenant": "t1", "before": before, "after": after,
        ]
        return Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) + [0x0A]
    }

    static func summarized(_ line: [UInt8]) throws -> [String: Any] {
        let bounded = try PolicyChangeSummary.bounded(line)
        #expect(bounded.count <= PolicyChangeSummary.lineLimit)
        #expect(bounded.last == 0x0A && bounded.dropLast().allSatisfy { $0 != 0x0A })
        return try #require(try JSONSerialization.jsonObject(with: Data(bounded)) as? [String: Any])
    }

    @Test func aShortLineIsKeptAsItIs() throws {
        let line = try Self.line(before: NSNull(), after: ["properties": ["allowedTenants": Self.rules(3)]])
        #expect(try PolicyChangeSummary.bounded(line) == line)
    }

    @Test func aLongLineNamesWhatAListGainedAndLost() throws {
        let before = ["properties": ["allowedTenants": Self.rules(3000), "isDisabled": false]]
        let after = ["properties": ["allowedTenants": Self.rules(3000, from: 1), "isDisabled": true]]
        let change = try Self.summarized(try Self.line(before: before, after: after))
        #expect(change["correlation_id"] as? String == "c1" && change["event"] as? String == "policy_change")
        #expect(change["documents"] as? String == "summarized")
        let digest = try #require(change["before"] as? [String: Any])
        #expect((digest["sha256"] as? String)?.count == 64 && (digest["bytes"] as? Int ?? 0) > 100_000)
        let changes = try #require(change["changes"] as? [[String: Any]])
        #expect(changes.map { $0["member"] as? String } == ["properties.allowedTenants", "properties.isDisabled"])
        #expect(
            (changes[0]["added"] as? [[String: Any]])?.map { $0["tenantId"] as? String } == [
                "00000000-0000-4000-8000-000000003000"
            ]
        )
        #expect(
            (changes[0]["removed"] as? [[String: Any]])?.map { $0["tenantId"] as? String } == [
                "00000000-0000-4000-8000-000000000000"
            ]
        )
        #expect(changes[1]["before"] as? Bool == false && changes[1]["after"] as? Bool == true)
    }

    /// A whole policy written at once (an import, a first policy) has changes as long as itself: they are counted.
    @Test func changesTooLongThemselvesAreCounted() throws {
        let after = ["properties": ["allowedTenants": Self.rules(6000)]]
        let change = try Self.summarized(try Self.line(before: ["properties": ["allowedTenants": []]], after: after))
        #expect(change["before"] is [String: Any] && change["after"] is [String: Any])
        let changes = try #require(change["changes"] as? [[String: Any]])
        #expect(changes.count == 1)
        #expect(changes.first?["added"] as? Int == 6000 && changes.first?["removed"] as? Int == 0)

        let first = try Self.summarized(try Self.line(before: NSNull(), after: after))
        #expect(first["before"] is NSNull)
        #expect((first["changes"] as? [[String: Any]])?.first?["changed"] as? Bool == true)
    }

    /// Parsed JSON is compared without printing it: the same value in any key order, and `true` is not `1`.
    @Test func parsedValuesAreComparedWithoutPrinting() throws {
        func parsed(_ text: String) throws -> Any {
            try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        }
        let pairs: [(String, String, Bool)] = [
            (#"{"a":1,"b":[true,null,"x"]}"#, #"{"b":[true,null,"x"],"a":1}"#, true),
            (#"{"a":true}"#, #"{"a":1}"#, false), (#"[1,2]"#, #"[2,1]"#, false),
            (#"{"a":1}"#, #"{"a":1,"b":1}"#, false),
            (#""1""#, "1", false), ("1.5", "1.5", true), ("null", "null", true),
        ]
        for (left, right, same) in pairs {
            let (a, b) = (try parsed(left), try parsed(right))
            #expect(JSONValue.same(a, b) == same, "\(left) \(right)")
            #expect((JSONValue.key(a) == JSONValue.key(b)) == same, "\(left) \(right)")
        }
    }
}
