import Foundation
import Plumbing
import TenantPolicy

extension CrossTenantReport {
    /// Aligned text for a terminal.
    package func renderTable() -> String {
        var lines = [
            "Cross-tenant isolation report from \(source): \(counts.read) lines, \(counts.crossTenant) cross-tenant, "
                + "\(counts.sameTenant) same-tenant, \(counts.unenforced) unenforced, \(counts.malformed) malformed, "
                + "\(counts.other) other"
        ]
        for section in tenants {
            lines.append("")
            lines.append("Tenant \(section.tenantID)")
            lines.append(
                "  direction  other tenant                          count  resource  allowed  blocked  would_block  first seen                last seen"
            )
            for connection in section.connections {
                let stats = connection.stats
                lines.append(
                    "  "
                        + [
                            pad(connection.connectionType.rawValue, 9), pad(connection.tenantID.description, 37),
                            pad("\(stats.count)", 6), pad("\(stats.resourceRequests)", 9),
                            pad("\(stats.decisions["allowed", default: 0])", 8),
                            pad("\(stats.decisions["blocked", default: 0])", 8),
                            pad("\(stats.decisions["would_block", default: 0])", 12),
                            pad(stats.firstSeen ?? "-", 25), stats.lastSeen ?? "-",
                        ].joined(separator: " ")
                )
            }
            if section.suggestedRules.isEmpty {
                lines.append("  suggested rules: none")
            } else {
                lines.append("  suggested rules (keep observed traffic working once isolation is On):")
                for rule in section.suggestedRules {
                    lines.append("    - tenant: \(rule.tenant)\n      direction: \(rule.directions)")
                }
            }
        }
        if !unenforced.isEmpty {
            lines.append("")
            lines.append("Unenforced (non-Entra STS, the known gap):")
            for (host, stats) in unenforced {
                lines.append("  \(pad(host, 40)) \(stats.count) exchange(s), last \(stats.lastSeen ?? "-")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One row per tenant and direction (RFC 4180 quoting).
    package func renderCSV() -> String {
        var rows = [
            "tenantId,connectionType,otherTenantId,count,allowed,blocked,would_block,firstSeen,lastSeen,clientIds"
        ]
        for section in tenants {
            for connection in section.connections {
                let stats = connection.stats
                rows.append(
                    [
                        section.tenantID.description, connection.connectionType.rawValue,
                        connection.tenantID.description,
                        "\(stats.count)", "\(stats.decisions["allowed", default: 0])",
                        "\(stats.decisions["blocked", default: 0])",
                        "\(stats.decisions["would_block", default: 0])", stats.firstSeen ?? "", stats.lastSeen ?? "",
                        stats.clientIDs.joined(separator: " "),
                    ].map(csvField).joined(separator: ",")
                )
            }
        }
        return rows.joined(separator: "\r\n") + "\r\n"
    }

    /// JSON with `connections: [{connectionType, tenantId}]` as Power Platform's report has it, plus counts.
    package func renderJSON() throws -> String {
        let document: [String: Any] = [
            "generatedAt": RFC3339.string(from: generatedAt, milliseconds: false),
            "source": source,
            "linesRead": counts.read,
            "linesSkipped": counts.malformed + counts.other,
            "linesMalformed": counts.malformed,
            "tenants": tenants.map { section in
                [
                    "tenantId": section.tenantID.description,
                    "connections": section.connections.map { connection in
                        [
                            "connectionType": connection.connectionType.rawValue,
                            "tenantId": connection.tenantID.description,
                            "count": connection.stats.count,
                            "resourceRequests": connection.stats.resourceRequests,
                            "firstSeen": connection.stats.firstSeen ?? NSNull(),
                            "lastSeen": connection.stats.lastSeen ?? NSNull(),
                            "decisions": connection.stats.decisions,
                            "clientIds": connection.stats.clientIDs,
                        ] as [String: Any]
                    },
                    "suggestedRules": section.suggestedRules.map {
                        ["tenant": $0.tenant.description, "direction": $0.directions.description]
                    },
                ] as [String: Any]
            },
            "unenforced": unenforced.map {
                ["host": $0.host, "count": $0.stats.count, "lastSeen": $0.stats.lastSeen ?? NSNull()] as [String: Any]
            },
        ]
        let data = try JSONSerialization.data(
            withJSONObject: document,
            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        )
        // Foundation writes a client_id's C1 and bidirectional controls as they are (review 57).
        return InvisibleControls.escapedInJSON(String(decoding: data, as: UTF8.self)) + "\n"
    }

    /// One self-contained page: summary, a creator-by-sign-in matrix drawn as SVG, per-tenant tables, rules.
    package func renderHTML() -> String {
        var html = """
            <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>TenantGate cross-tenant report</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
            td,th{border:1px solid #ccc;padding:.25em .6em;font-size:.9em;text-align:left}th{background:#f3f3f3}
            .legend span{display:inline-block;width:1em;height:1em;margin:0 .3em 0 1em;vertical-align:middle}
            code{font-size:.9em}</style></head><body>
            <h1>Cross-tenant isolation report</h1>
            <p>\(escape(source)): \(counts.read) lines read, \(counts.crossTenant) cross-tenant exchanges, \(counts.sameTenant) same-tenant, \(counts.unenforced) unenforced, \(counts.malformed) malformed.</p>
            """
        html += matrixSVG()
        for section in tenants {
            html +=
                "<h2>Tenant <code>\(section.tenantID)</code></h2><table><tr><th>direction</th><th>other tenant</th><th>count</th><th>on resource hosts</th><th>allowed</th><th>blocked</th><th>would_block</th><th>first seen</th><th>last seen</th><th>client IDs</th></tr>"
            for connection in section.connections {
                let stats = connection.stats
                html +=
                    "<tr><td>\(connection.connectionType.rawValue)</td><td><code>\(connection.tenantID)</code></td><td>\(stats.count)</td>"
                    + "<td>\(stats.resourceRequests)</td>"
                    + "<td>\(stats.decisions["allowed", default: 0])</td><td>\(stats.decisions["blocked", default: 0])</td>"
                    + "<td>\(stats.decisions["would_block", default: 0])</td><td>\(escape(stats.firstSeen ?? "-"))</td>"
                    + "<td>\(escape(stats.lastSeen ?? "-"))</td><td>\(escape(stats.clientIDs.joined(separator: ", ")))</td></tr>"
            }
            html += "</table><p>Suggested rules:</p><ul>"
            for rule in section.suggestedRules { html += "<li><code>\(rule.tenant)</code> \(rule.directions)</li>" }
            html += section.suggestedRules.isEmpty ? "<li>none</li></ul>" : "</ul>"
        }
        if !unenforced.isEmpty {
            html += "<h2>Unenforced (non-Entra STS)</h2><table><tr><th>host</th><th>count</th><th>last seen</th></tr>"
            for (host, stats) in unenforced {
                html +=
                    "<tr><td>\(escape(host))</td><td>\(stats.count)</td><td>\(escape(stats.lastSeen ?? "-"))</td></tr>"
            }
            html += "</table>"
        }
        return html + "</body></html>\n"
    }

    /// Rows are creator tenants, columns sign-in tenants; a cell's colour is its worst outcome, its text the count.
    private func matrixSVG() -> String {
        let ids = Array(Set(pairs.keys.flatMap { [$0.creator, $0.signIn] })).sorted()
        guard !ids.isEmpty else { return "<p>No cross-tenant exchanges.</p>" }
        let cell = 52
        let label = 300
        // Column labels are whole tenant IDs set at 45°, so that neighbouring columns never overlap.
        let top = 200
        let width = label + cell * ids.count + 200
        let height = top + cell * ids.count + 10
        var svg =
            "<h2>Creator → sign-in matrix</h2><p class=\"legend\"><span style=\"background:#4caf50\"></span>allowed<span style=\"background:#ffb300\"></span>would_block<span style=\"background:#e53935\"></span>blocked</p>"
        svg +=
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"tenant matrix\" font-family=\"monospace\" font-size=\"11\">"
        svg +=
            "<text x=\"\(label - 8)\" y=\"\(top - 8)\" text-anchor=\"end\" font-family=\"sans-serif\" font-weight=\"bold\">creator ↓  sign-in →</text>"
        for (column, id) in ids.enumerated() {
            let x = label + column * cell + cell / 2
            svg += "<text x=\"\(x)\" y=\"\(top - 8)\" transform=\"rotate(-45 \(x) \(top - 8))\">\(id)</text>"
        }
        for (row, creator) in ids.enumerated() {
            let y = top + row * cell
            svg += "<text x=\"\(label - 8)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">\(creator)</text>"
            for (column, signIn) in ids.enumerated() {
                let x = label + column * cell
                if let stats = pairs[TenantPair(creator: creator, signIn: signIn)] {
                    let colour =
                        stats.worstDecision == "blocked"
                        ? "#e53935" : stats.worstDecision == "would_block" ? "#ffb300" : "#4caf50"
                    svg +=
                        "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"\(colour)\"><title>\(creator) → \(signIn): \(stats.count)</title></rect>"
                    svg +=
                        "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\" fill=\"#fff\">\(stats.count)</text>"
                } else {
                    svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell - 2)\" height=\"\(cell - 2)\" fill=\"#eee\"/>"
                }
            }
        }
        return svg + "</svg>"
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// RFC 4180 quoting, after neutralising what a client could aim at the reader: text from the audit log such as
    /// a `client_id` is the client's own, so a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first:
    /// OWASP's CSV injection) gets a leading `'`, and control characters (escape sequences for the terminal the
    /// report is printed on, a bare CR that hides a row) are written as `\u{…}`.
    /// Judged by scalars, as a CSV reader reads: compared as Characters, a `"` or `,` with a combining mark after it
    /// is neither, and a client_id spelled so opened a quoted cell that swallowed the rows after it (review 57).
    private func csvField(_ text: String) -> String {
        let visible = Self.escapingControls(text)
        let formula = visible.unicodeScalars.first.map { "=+-@".unicodeScalars.contains($0) } ?? false
        let neutral = formula ? "'" + visible : visible
        guard neutral.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" }) else { return neutral }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in neutral.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// C0 controls, DEL and `InvisibleControls` as `\u{…}`.
    private static func escapingControls(_ text: String) -> String {
        let isControl = { (scalar: Unicode.Scalar) in
            scalar.value < 0x20 || scalar.value == 0x7F || InvisibleControls.contains(scalar)
        }
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// HTML's own escapes, and controls as `\u{…}` text: the page is also printed to a terminal when no `--output` is
    /// given (review 58: a client_id's ESC and RLO went there as they were).
    private func escape(_ text: String) -> String {
        Self.escapingControls(text).replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
            of: "<",
            with: "&lt;"
        )
        .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
