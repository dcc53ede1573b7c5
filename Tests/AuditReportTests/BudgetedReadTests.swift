import AuditReport
import Foundation
import Testing

/// The console's Report reads the audit log within a budget, and refuses what is not a file without reading it.
struct BudgetedReadTests {
    static func temporaryPath(_ name: String) -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenantgate-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name).path
    }

    /// A FIFO (what /dev/stdout is under a log collector) would block the reader and steal the collector's lines:
    /// refused at once, with a sentence that says what to do.
    @Test func aPipeIsRefusedWithoutReadingIt() throws {
        let path = Self.temporaryPath("audit.pipe")
        #expect(mkfifo(path, 0o600) == 0)
        var builder = AuditReportBuilder()
        let started = ContinuousClock.now
        #expect {
            try builder.add(file: path, budget: ReadBudget(maxBytes: 1 << 20, maxDuration: .seconds(5)))
        } throws: { error in
            "\(error)".contains("not a regular file") && "\(error)".contains("write the audit log to a file")
        }
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    /// A log larger than the budget is read from its newest bytes, the cut first line left out.
    @Test func aLargeLogIsReadFromItsNewestBytes() throws {
        let path = Self.temporaryPath("audit.jsonl")
        let old = AuditReportTests.line(
            "allowed",
            AuditReportTests.contoso,
            AuditReportTests.fabrikam,
            time: "2026-11-01T10:00:00.000Z"
        )
        let new = AuditReportTests.line(
            "blocked",
            AuditReportTests.contoso,
            AuditReportTests.northwind,
            time: "2026-11-02T10:00:00.000Z"
        )
        let text = String(repeating: old + "\n", count: 200) + String(repeating: new + "\n", count: 10)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var builder = AuditReportBuilder()
        let budget = (new.utf8.count + 1) * 10 + 20
        let coverage = try builder.add(file: path, budget: ReadBudget(maxBytes: budget, maxDuration: .seconds(5)))
        #expect(coverage == .lastBytes(budget))
        let report = builder.build(source: path)
        #expect(report.counts.read == 10, "the ten newest lines, not the cut one before them")
        #expect(report.counts.crossTenant == 10)

        var whole = AuditReportBuilder()
        #expect(try whole.add(file: path, budget: ReadBudget(maxBytes: 1 << 20, maxDuration: .seconds(5))) == .whole)
        #expect(whole.build(source: path).counts.read == 210)
    }

    /// A client ID is the client's own text: one that starts like a formula is neutralised in the CSV.
    @Test(arguments: ["=HYPERLINK(A1)", "+1+1", "-2+3", "@SUM(A1)"])
    func csvCellsThatLookLikeFormulasAreNeutralised(_ clientID: String) {
        var builder = AuditReportBuilder()
        let line = AuditReportTests.line(
            "allowed",
            AuditReportTests.contoso,
            AuditReportTests.fabrikam,
            time: "2026-11-01T10:00:00.000Z",
            client: clientID
        )
        builder.add(line: Array(line.utf8))
        let csv = builder.build(source: "test").renderCSV()
        let cells = csv.split(separator: "\r\n").dropFirst().flatMap {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(!cells.contains { ["=", "+", "-", "@", "\t"].contains($0.first.map(String.init) ?? "") }, "\(csv)")
        #expect(csv.contains("'" + String(clientID.prefix(4))), "\(csv)")
    }

    /// Review 57: a `"` or `,` with a combining mark after it is one Character but still a quote or a comma to a CSV
    /// reader: such a client ID opened a quoted cell that swallowed the rows after it, or added a column.
    @Test(arguments: ["\"\u{301}", "a,\u{301}b", "=\u{301}HYPERLINK(A1)"])
    func csvCellsAreQuotedByTheirScalars(_ clientID: String) {
        var builder = AuditReportBuilder()
        for (signIn, time) in [(AuditReportTests.fabrikam, "10"), (AuditReportTests.northwind, "11")] {
            let line = AuditReportTests.line(
                "allowed",
                AuditReportTests.contoso,
                signIn,
                time: "2026-11-01T\(time):00:00.000Z",
                client: clientID
            )
            builder.add(line: Array(line.utf8))
        }
        let csv = builder.build(source: "test").renderCSV()
        let rows = csv.split(separator: "\r\n")
        let columns = rows.first.map { $0.split(separator: ",").count } ?? 0
        for row in rows.dropFirst() {
            var cells = 1
            var quoted = false
            for scalar in row.unicodeScalars {
                if scalar == "\"" { quoted.toggle() } else if scalar == ",", !quoted { cells += 1 }
            }
            #expect(!quoted && cells == columns, "\(row)")
        }
        #expect(!csv.unicodeScalars.split(separator: ",").contains { $0.first == "=" }, "\(csv)")
    }

    /// Review 57: the JSON report wrote C1 controls and bidirectional controls of a client ID as they were (Foundation
    /// does); they are `\u` escapes, and the document reads back the same.
    @Test func theJSONReportEscapesInvisibleControls() throws {
        var builder = AuditReportBuilder()
        let clientID = "a\u{9B}2J\u{202E}b\u{2028}"
        let line = AuditReportTests.line(
            "allowed",
            AuditReportTests.contoso,
            AuditReportTests.fabrikam,
            time: "2026-11-01T10:00:00.000Z",
            client: clientID
        )
        builder.add(line: Array(line.utf8))
        let json = try builder.build(source: "test").renderJSON()
        #expect(json.contains(#"a\u009b2J\u202eb\u2028"#), "\(json)")
        #expect(!json.unicodeScalars.contains { $0.value == 0x9B || $0.value == 0x202E })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let tenants = object["tenants"] as? [[String: Any]]
        let connections = tenants?.first?["connections"] as? [[String: Any]]
        #expect(connections?.first?["clientIds"] as? [String] == [clientID])
        // The CSV and the HTML page (printed to the terminal without --output) escape them too (review 58).
        let report = builder.build(source: "test")
        for rendered in [report.renderCSV(), report.renderHTML()] {
            #expect(!rendered.unicodeScalars.contains { $0.value == 0x9B || $0.value == 0x202E }, "\(rendered)")
        }
    }

    /// Review 21: control characters in a client ID reached the terminal the CSV was printed on (ESC sequences that
    /// erase rows or set the window title, a bare CR that hides one); they are written as escapes.
    @Test func csvCellsCarryNoControlCharacters() {
        var builder = AuditReportBuilder()
        // As the audit writer escapes it.
        let clientID = #"x\r\u001b[2K\u001b[1A\u001b]0;title\u0007\u009b\tend"#
        let line = AuditReportTests.line(
            "allowed",
            AuditReportTests.contoso,
            AuditReportTests.fabrikam,
            time: "2026-11-01T10:00:00.000Z",
            client: clientID
        )
        builder.add(line: Array(line.utf8))
        let csv = builder.build(source: "test").renderCSV()
        let rows = csv.split(separator: "\r\n")
        #expect(rows.count == 3, "\(csv)")  // the header, then Contoso outbound and Fabrikam inbound
        #expect(
            !rows.joined().unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
            "\(csv)"
        )
        #expect(csv.contains(#"x\u{d}\u{1b}[2K\u{1b}[1A\u{1b}]0;title\u{7}\u{9b}\u{9}end"#), "\(csv)")
    }
}
