import Audit
import Foundation
import TenantPolicy
import Testing

/// Audit lines: SPEC 4's fields, escaping, group commit, and close draining everything.
struct AuditLogTests {
    static func event(reason: String = "why", decision: AuditDecision = .blocked) -> AuditEvent {
        AuditEvent(
            time: Date(timeIntervalSince1970: 1_700_000_000.123),
            decision: decision,
            directions: [.outbound],
            creatorTenant: TenantID("bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0"),
            signInTenant: nil,
            host: "login.microsoftonline.com",
            path: "/t/oauth2/v2.0/token?code=SECRET",
            clientID: "app",
            reason: reason,
            rule: nil,
            correlationID: UUID()
        )
    }

    @Test func lineHasExactlyTheContractFieldsAndEscapes() throws {
        let line = Self.event(reason: "quote \" backslash \\ newline \n control \u{01}").jsonLine()
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "time", "decision", "directions", "creator_tenant", "sign_in_tenant", "host", "path", "client_id",
                "reason", "rule", "correlation_id",
            ]
        )
        #expect(object["time"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(object["path"] as? String == "/t/oauth2/v2.0/token")
        #expect(object["sign_in_tenant"] is NSNull)
        #expect(object["reason"] as? String == "quote \" backslash \\ newline \n control \u{01}")
        #expect(!String(decoding: line, as: UTF8.self).contains("SECRET"))
    }

    /// C1 controls, line and paragraph separators and bidirectional controls go out as `\uXXXX`, so that a client's
    /// text cannot drive a terminal reading the log or reorder a line (review 57); other text beyond ASCII as it is.
    @Test func invisibleControlsAreEscapedAndOtherTextKept() throws {
        let reason = "a\u{85}b\u{9B}c\u{202E}d\u{2028}e\u{2066}f\u{200F}g\u{61C}h é € 😀 \u{A9}"
        let line = String(decoding: Self.event(reason: reason).jsonLine(), as: UTF8.self)
        #expect(
            line.contains(#"a\u0085b\u009bc\u202ed\u2028e\u2066f\u200fg\u061ch é € 😀 \#u{A9}"#),
            "\(line)"
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["reason"] as? String == reason)
    }

    @Test func tenantsCorrelationIDAndTimeAreWrittenInTheirCanonicalForms() throws {
        let correlationID = UUID(uuidString: "0A1B2C3D-4E5F-6A7B-8C9D-AEBFC0D1E2F3")!
        var event = Self.event()
        event.correlationID = correlationID
        event.homeTenant = TenantID("72F988BF-86F1-41AF-91AB-2D7CD011DB47")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(event.jsonLine())) as? [String: Any])
        #expect(object["creator_tenant"] as? String == "bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0")
        #expect(object["home_tenant"] as? String == "72f988bf-86f1-41af-91ab-2d7cd011db47")
        #expect(object["correlation_id"] as? String == "0a1b2c3d-4e5f-6a7b-8c9d-aebfc0d1e2f3")
        for (seconds, text) in [
            (0.0, "1970-01-01T00:00:00.000Z"), (951_782_400.5, "2000-02-29T00:00:00.500Z"),
            (253_402_300_799.999, "9999-12-31T23:59:59.999Z"),
        ] {
            event.time = Date(timeIntervalSince1970: seconds)
            let line = try #require(try JSONSerialization.jsonObject(with: Data(event.jsonLine())) as? [String: Any])
            #expect(line["time"] as? String == text)
        }
    }

    @Test func linesAppendedToABatchStayWholeAndInOrder() throws {
        let events = ["first", "second", "third"].map { Self.event(reason: $0) }
        var batch: [UInt8] = []
        for event in events { event.appendJSONLine(to: &batch) }
        let lines = String(decoding: batch, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 3)
        let reasons = try lines.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["reason"] as? String
        }
        #expect(reasons == ["first", "second", "third"])
        #expect(batch == events.flatMap { $0.jsonLine() })
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
