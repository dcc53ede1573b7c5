import AuditReport
import Foundation
import TenantPolicy
import TestSupport
import Testing

/// The report from a scripted mix of audit lines: counts, first/last seen, suggested rules, every format.
struct AuditReportTests {
    static let contoso = ExampleTenants.contoso.description
    static let fabrikam = ExampleTenants.fabrikam.description
    static let northwind = ExampleTenants.northwind.description

    static func line(
        _ decision: String,
        _ creator: String?,
        _ signIn: String?,
        time: String,
        client: String = "app<1>"
    ) -> String {
        let c = creator.map { "\"\($0)\"" } ?? "null"
        let s = signIn.map { "\"\($0)\"" } ?? "null"
        return
            #"{"time":"\#(time)","decision":"\#(decision)","directions":[],"creator_tenant":\#(c),"sign_in_tenant":\#(s),"host":"login.microsoftonline.com","path":"/x","client_id":"\#(client)","reason":"r","rule":null,"correlation_id":"c"}"#
    }

    static let lines = [
        line("allowed", contoso, fabrikam, time: "2026-11-01T10:00:00.000Z"),
        line("allowed", contoso, fabrikam, time: "2026-11-03T10:00:00.000Z"),
        line("blocked", contoso, northwind, time: "2026-11-02T10:00:00.000Z"),
        line("would_block", fabrikam, contoso, time: "2026-11-02T11:00:00.000Z"),
        line("allowed", contoso, contoso, time: "2026-11-02T12:00:00.000Z"),
        #"{"time":"2026-11-02T13:00:00.000Z","decision":"unenforced","creator_tenant":"\#(contoso)","sign_in_tenant":null,"host":"app.vssps.visualstudio.com","client_id":null}"#,
        line("error", nil, nil, time: "2026-11-02T14:00:00.000Z"),
        "{not json",
    ]

    static func report(tenant: TenantID? = nil, since: String? = nil) -> CrossTenantReport {
        var builder = AuditReportBuilder(tenant: tenant, since: since)
        for line in lines { builder.add(line: Array(line.utf8)) }
        return builder.build(source: "test", generatedAt: Date(timeIntervalSince1970: 0))
    }

    @Test func countsAndSuggestedRules() throws {
        let report = Self.report()
        #expect(
            report.counts == LineCounts(read: 8, crossTenant: 4, sameTenant: 1, unenforced: 1, other: 1, malformed: 1)
        )
        let contoso = try #require(report.tenants.first { $0.tenantID.description == Self.contoso })
        let outboundFabrikam = try #require(
            contoso.connections.first { $0.connectionType == .outbound && $0.tenantID.description == Self.fabrikam }
        )
        #expect(outboundFabrikam.stats.count == 2)
        #expect(outboundFabrikam.stats.firstSeen == "2026-11-01T10:00:00.000Z")
        #expect(outboundFabrikam.stats.lastSeen == "2026-11-03T10:00:00.000Z")
        // Fabrikam outbound (allowed) and Fabrikam inbound (would_block) → both; Northwind was blocked → no rule.
        #expect(contoso.suggestedRules.map { "\($0.tenant) \($0.directions)" } == ["\(Self.fabrikam) both"])
        #expect(report.unenforced.map(\.host) == ["app.vssps.visualstudio.com"])
    }

    /// A token used on a resource host counts with the pair it connects, and is told apart from exchanges.
    @Test func resourceRequestsCountWithTheirPairAndAreToldApart() throws {
        var builder = AuditReportBuilder(tenant: nil, since: nil)
        let resource =
            #"{"time":"2026-11-04T10:00:00.000Z","event":"resource_access","method":"GET","decision":"blocked","directions":["outbound"],"creator_tenant":"\#(Self.contoso)","sign_in_tenant":"\#(Self.northwind)","host":"graph.microsoft.com","path":"/v1.0/me","correlation_id":"c"}"#
        for line in Self.lines + [resource] { builder.add(line: Array(line.utf8)) }
        let report = builder.build(source: "test", generatedAt: Date(timeIntervalSince1970: 0))
        let contoso = try #require(report.tenants.first { $0.tenantID.description == Self.contoso })
        let northwind = try #require(contoso.connections.first { $0.tenantID.description == Self.northwind })
        #expect(northwind.stats.count == 2)
        #expect(northwind.stats.resourceRequests == 1)
        #expect(northwind.stats.lastSeen == "2026-11-04T10:00:00.000Z")
        #expect(try report.renderJSON().replacingOccurrences(of: " ", with: "").contains(#""resourceRequests":1"#))
        #expect(report.renderTable().contains("count  resource  allowed"))
        #expect(report.renderHTML().contains("<th>on resource hosts</th>"))
    }

    @Test func tenantAndSinceFilters() {
        let report = Self.report(tenant: TenantID(Self.northwind), since: "2026-11-02T00:00:00")
        #expect(report.tenants.map(\.tenantID.description) == [Self.northwind])
        #expect(Self.report(since: "2026-11-02T10:30:00").counts.crossTenant == 2)
    }

    @Test func everyFormatRenders() throws {
        let report = Self.report()
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(report.renderJSON().utf8)) as? [String: Any]
        )
        let tenants = try #require(json["tenants"] as? [[String: Any]])
        let connections = tenants.flatMap { ($0["connections"] as? [[String: Any]]) ?? [] }
        #expect(connections.allSatisfy { ["Inbound", "Outbound"].contains($0["connectionType"] as? String ?? "") })
        let csv = report.renderCSV().split(separator: "\r\n")
        #expect(csv.first?.hasPrefix("tenantId,connectionType,otherTenantId") == true)
        #expect(csv.count == 1 + connections.count)
        let html = report.renderHTML()
        #expect(html.contains("<svg"))
        #expect(html.contains("app&lt;1&gt;"))
        #expect(!html.contains("app<1>"))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
        #expect(report.renderTable().contains("suggested rules"))
    }

    @Test func largeLogIsStreamed() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let block =
            (0..<1000).map {
                Self.line(
                    "allowed",
                    Self.contoso,
                    Self.fabrikam,
                    time: "2026-11-01T00:00:00.\(String(format: "%03d", $0))Z",
                    client: "c\($0)"
                )
            }
            .joined(separator: "\n") + "\n"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: path))
        for _ in 0..<100 { handle.write(Data(block.utf8)) }
        try handle.close()
        var builder = AuditReportBuilder()
        try builder.add(file: path)
        let report = builder.build(source: path)
        #expect(report.counts.read == 100_000)
        let stats = try #require(report.pairs.values.first)
        #expect(stats.clientIDs.count == PairStatistics.maxClientIDs)
        #expect(stats.exchangesFromUnlistedClients == 98_000)
    }
}
