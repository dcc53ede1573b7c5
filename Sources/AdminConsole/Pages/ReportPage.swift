import AdminAPI
import AuditReport
import EntraAuth
import Foundation
import Hummingbird
import Plumbing
import PolicyFiles
import PolicyService
import TenantPolicy

/// Report: the creator × sign-in matrix of the audit log over a period, with tenant names, and the rules the
/// administrator's tenant would need, each with "Add rule".
extension AdminConsole {
    static let periods: [(value: String, label: String, seconds: TimeInterval?)] = [
        ("24h", "Last 24 hours", 86_400), ("7d", "Last 7 days", 7 * 86_400), ("30d", "Last 30 days", 30 * 86_400),
        ("all", "Everything in the log", nil),
    ]

    func reportPage(_ request: Request, _ context: AdminRequestContext) async -> Response {
        let chrome: PageRenderer.Chrome
        switch signedIn(request, context, page: .report) {
        case .failure(let refusal): return refusal.response
        case .success(let signedIn): chrome = signedIn
        }
        let chosen = Self.periods.first { $0.value == Self.query(request)["period"] } ?? Self.periods[1]
        var values: [String: Any] = [
            "periods": Self.periods.map { period in
                ["value": period.value, "label": period.label, "selected": period.value == chosen.value]
                    as [String: Any]
            }
        ]
        guard let path = configuration.auditLogPath else {
            values["unavailable"] = "No audit log is configured, so there is nothing to report."
            return renderer.page("report", title: "Report", chrome: chrome, values: values)
        }
        let since = chosen.seconds.map {
            String(RFC3339.string(from: Date().addingTimeInterval(-$0), milliseconds: false).prefix(19))
        }
        // The administrator's own tenant's traffic only, as the API confines them to their own tenant.
        switch await reports.report(of: path, tenant: chrome.principal.tenant, since: since) {
        case .built(let report, let coverage):
            values["report"] = reportValues(report, coverage: coverage, viewer: chrome.principal.tenant)
        case .unreadable(let problem):
            values["unavailable"] = "The audit log could not be read: \(problem)"
        case .busy:
            var busy = renderer.page(
                "report",
                title: "Report",
                chrome: chrome,
                values: values.merging([
                    "unavailable": "Reports are being built for other administrators; try again in a few seconds."
                ]) { $1 }
            )
            busy.status = .serviceUnavailable
            busy.headers[.retryAfter] = "5"
            return busy
        }
        return renderer.page("report", title: "Report", chrome: chrome, values: values)
    }

    private func reportValues(_ report: CrossTenantReport, coverage: ReadCoverage, viewer: TenantID) -> [String: Any] {
        let set = policies.current().bundle.isolation
        let creators = Set(report.pairs.keys.map(\.creator)).sorted { set.name($0) < set.name($1) }
        let signIns = Set(report.pairs.keys.map(\.signIn)).sorted { set.name($0) < set.name($1) }
        let rows: [[String: Any]] = creators.map { creator in
            let cells: [[String: Any]] = signIns.map { signIn in
                guard let stats = report.pairs[TenantPair(creator: creator, signIn: signIn)] else {
                    return ["count": 0, "decision": ""]
                }
                return [
                    "count": stats.count, "decision": stats.worstDecision,
                    "decisionLabel": ActivityRow.label(stats.worstDecision),
                ]
            }
            return ["name": set.name(creator), "cells": cells]
        }
        let counts = report.counts
        let covered: String
        switch coverage {
        case .whole: covered = ""
        case .lastBytes(let bytes): covered = " (the newest \(bytes >> 20) MiB of the log)"
        case .stoppedAfter(let time): covered = " (as far as could be read in \(time.components.seconds) s)"
        }
        return [
            "summary":
                "\(counts.read) audit lines read\(covered): \(counts.crossTenant) cross-tenant exchanges, "
                + "\(counts.sameTenant) within one tenant, \(counts.unenforced) unenforced.",
            "hasPairs": !rows.isEmpty,
            "columns": signIns.map { ["name": set.name($0)] },
            "rows": rows,
            "suggestions": Self.suggestions(report, viewer: viewer, set: set),
        ]
    }

    /// The rules the viewer's allowlist lacks for the traffic seen working: the report's own suggestions (a pair let
    /// through, or only recorded in report-only mode), less each direction a rule already allows. A refused attempt
    /// alone suggests nothing, as in `tenantgate report` (review 57: any client's refused request naming a made-up
    /// tenant put an "Add rule" for it here).
    static func suggestions(_ report: CrossTenantReport, viewer: TenantID, set: PolicySet) -> [[String: Any]] {
        guard let section = report.tenants.first(where: { $0.tenantID == viewer }) else { return [] }
        let policy = set.tenant(viewer)?.isolation
        var needed: [TenantID: DirectionSet] = [:]
        for rule in section.suggestedRules where rule.tenant != viewer {
            for (direction, bit) in [(Direction.outbound, DirectionSet.outbound), (.inbound, .inbound)]
            where rule.directions.contains(bit) && policy?.rule(allowing: rule.tenant, direction) == nil {
                needed[rule.tenant, default: []].insert(bit)
            }
        }
        return needed.sorted { set.name($0.key) < set.name($1.key) }.map { tenant, directions in
            let direction = directions == .both ? "both" : directions == .inbound ? "inbound" : "outbound"
            return [
                "name": set.name(tenant), "tenantID": tenant.description, "direction": direction,
                "addURL": IsolationLinks.addRule(tenant, directions),
            ]
        }
    }
}
