import Foundation
import TenantPolicy
import TestSupport
import Testing

/// `tenantgate report` through the real binary over a fleet's audit files: every `--audit-log` is read, as one.
@Suite(.timeLimit(.minutes(5)))
struct ReportBinaryTests {
    static let contoso = ExampleTenants.contoso.description
    static let fabrikam = ExampleTenants.fabrikam.description

    static func line(_ time: String, client: String) -> String {
        #"{"time":"\#(time)","decision":"allowed","directions":[],"creator_tenant":"\#(contoso)","sign_in_tenant":"\#(fabrikam)","host":"login.microsoftonline.com","path":"/x","client_id":"\#(client)","reason":"r","rule":null,"correlation_id":"c"}"#
    }

    @Test func everyInstancesFileIsReadAsOne() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantgate-report-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("instance-a.jsonl").path
        let second = directory.appendingPathComponent("instance-b.jsonl").path
        try (Self.line("2026-11-02T10:00:00.000Z", client: "app-1") + "\n").write(
            toFile: first,
            atomically: true,
            encoding: .utf8
        )
        try
            (Self.line("2026-11-03T10:00:00.000Z", client: "app-2") + "\n"
            + Self.line("2026-11-01T09:00:00.000Z", client: "app-1") + "\n")
            .write(toFile: second, atomically: true, encoding: .utf8)

        let outcome = try await ChildProcess.run(
            ServeProcess.binary,
            ["report", "--audit-log", first, "--audit-log", second, "--tenant", Self.contoso, "--format", "json"]
        )
        #expect(outcome.status == 0, "\(outcome.errors)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(outcome.output.utf8)) as? [String: Any])
        #expect(report["linesRead"] as? Int == 3)
        let tenants = try #require(report["tenants"] as? [[String: Any]])
        let outbound = try #require((tenants.first?["connections"] as? [[String: Any]])?.first)
        #expect(outbound["connectionType"] as? String == "Outbound")
        #expect(outbound["count"] as? Int == 3)
        #expect((outbound["firstSeen"] as? String)?.hasPrefix("2026-11-01T09:00:00") == true)
        #expect((outbound["lastSeen"] as? String)?.hasPrefix("2026-11-03T10:00:00") == true)

        let missing = try await ChildProcess.run(
            ServeProcess.binary,
            ["report", "--audit-log", first, "--audit-log", "/nonexistent/audit.jsonl"]
        )
        #expect(missing.status == 2)
        #expect(missing.errors.contains("/nonexistent/audit.jsonl"))
    }
}
