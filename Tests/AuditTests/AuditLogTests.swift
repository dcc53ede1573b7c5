import Foundation
import Testing

import Audit
import TenantPolicy

/// Audit lines: SPEC 4's fields, escaping, group commit, and close draining everything.
struct AuditLogTests {
    static func event(reason: String = "why", decision: AuditDecision = .blocked) -> AuditEvent {
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_700_000_000.123), decision: decision, directions: [.outbound],
            creatorTenant: TenantID("bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0"), signInTenant: nil,
            host: "login.microsoftonline.com", path: "/t/oauth2/v2.0/token?code=SECRET", clientID: "app",
            reason: reason, rule: nil, correlationID: UUID())
    }

    @Test func lineHasExactlyTheContractFieldsAndEscapes() throws {
        let line = Self.event(reason: "quote \" backslash \\ newline \n control \u{01}").jsonLine()
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(Set(object.keys) == ["time", "decision", "directions", "creator_tenant", "sign_in_tenant", "host", "path", "client_id", "reason", "rule", "correlation_id"])
        #expect(object["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(object["path"] as? String == "/t/oauth2/v2.0/token")
        #expect(object["sign_in_tenant"] is NSNull)
        #expect(object["reason"] as? String == "quote \" backslash \\ newline \n control \u{01}")
        #expect(!String(decoding: line, as: UTF8.self).contains("SECRET"))
    }

    @Test func groupCommitWritesEveryLineBeforeItsCompletion() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<500 { try await log.recordAndWait(Self.event(reason: "t\(task)-\(index)")) }
                }
            }
            try await group.waitForAll()
        }
        #expect(log.written == 4_000)
        log.close()
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4_000)
        #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
    }

    @Test func closeDrainsAndLaterRecordsFail() async throws {
        let sink = MemorySink()
        let log = AuditLog(sink: sink)
        for _ in 0..<100 { log.record(Self.event()) { _ in } }
        log.close()
        #expect(sink.lines.count == 100)
        await #expect(throws: AuditLogError.self) { try await log.recordAndWait(Self.event()) }
    }

    @Test func unopenablePathIsAClearError() {
        #expect(throws: AuditLogError.self) { try AuditLog(path: "/nonexistent-dir/audit.jsonl") }
    }
}
