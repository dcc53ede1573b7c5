import ArgumentParser
import AuditReport
import Foundation
import TenantPolicy

/// `tenantgate report`: the cross-tenant isolation report from an audit log, with suggested allowlist rules.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarise cross-tenant traffic from an audit log and suggest the rules that keep it working."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, csv, json, html
    }

    @Option(
        name: .customLong("audit-log"),
        help: "The audit log (JSON Lines); repeatable, for the files of a fleet's instances, read as one."
    )
    var auditLog: [String]

    @Option(name: .long, help: "Only traffic of this tenant (GUID).")
    var tenant: String?

    @Option(name: .long, help: "Only lines from this date on: YYYY-MM-DD or RFC 3339 (UTC).")
    var since: String?

    @Option(name: .long, help: "table, csv, json or html.")
    var format: Format = .table

    @Option(name: .long, help: "Write the report to this file instead of standard output.")
    var output: String?

    func run() throws {
        var tenantID: TenantID?
        if let tenant {
            guard let parsed = TenantID(tenant) else {
                printError("--tenant: '\(tenant)' is not a tenant ID (GUID)")
                throw ExitCode.badInput
            }
            tenantID = parsed
        }
        var sincePrefix: String?
        if let since {
            guard let date = Self.parseDate(since) else {
                printError("--since: '\(since)' is not YYYY-MM-DD or an RFC 3339 time")
                throw ExitCode.badInput
            }
            sincePrefix = ISO8601DateFormatter().string(from: date).replacingOccurrences(of: "Z", with: "")
        }
        var builder = AuditReportBuilder(tenant: tenantID, since: sincePrefix)
        do {
            for file in auditLog { try builder.add(file: file) }
        } catch {
            printError("\(error)")
            throw ExitCode.badInput
        }
        let report = builder.build(source: auditLog.joined(separator: ", "))
        let text: String
        switch format {
        case .table: text = report.renderTable()
        case .csv: text = report.renderCSV()
        case .json: text = try report.renderJSON()
        case .html: text = report.renderHTML()
        }
        if let output {
            do {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
            } catch {
                printError("--output \(output): \(error.localizedDescription)")
                throw ExitCode.badInput
            }
        } else {
            print(text, terminator: "")
        }
    }

    static func parseDate(_ text: String) -> Date? {
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }
}
