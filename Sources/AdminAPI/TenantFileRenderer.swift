import CrossTenantAccess
import Foundation
import TenantPolicy

/// Writes one tenant's policy file in the format the directory already uses for it (SPEC 4): the project YAML,
/// the Power Platform admin API JSON, or a Graph cross-tenant access JSON with its `tenantId`.
///
/// Comments of a rewritten YAML file are not kept; every value is.
enum TenantFileRenderer {
    enum Format {
        /// Project YAML; `includesCrossTenantAccess` when the tenant's settings live in this file.
        case projectYAML(includesCrossTenantAccess: Bool)
        case powerPlatformJSON
        case graphJSON
    }

    static func render(_ state: TenantPolicyState, as format: Format, directory: TenantDirectory) throws -> String {
        switch format {
        case .projectYAML(let includesCrossTenantAccess):
            yaml(state, includesCrossTenantAccess: includesCrossTenantAccess)
        case .powerPlatformJSON:
            try powerPlatformJSON(state, directory: directory)
        case .graphJSON:
            graphJSON(state)
        }
    }

    /// The Graph file (Graph's document with `tenantId` merged in) and YAML's quoted strings are written from JSON
    /// objects, in JSONSerialization's key order, so that the files already written come out the same.
    private static func json(_ object: Any, pretty: Bool = true) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static func powerPlatformJSON(_ state: TenantPolicyState, directory: TenantDirectory) throws -> String {
        let isolation = state.isolation ?? IsolationPolicy(tenantID: state.tenant, isEnabled: false, rules: [])
        let document = PowerPlatformIsolationDocument(isolation, directory: directory)
        return String(decoding: try AdminJSON.encode(document, pretty: true), as: UTF8.self) + "\n"
    }

    private static func graphJSON(_ state: TenantPolicyState) -> String {
        var object = graphObject(state.crossTenantAccess ?? CrossTenantAccessPolicy())
        object["tenantId"] = state.tenant.description
        return json(object) + "\n"
    }

    private static func graphObject(_ policy: CrossTenantAccessPolicy) -> [String: Any] {
        guard let data = try? policy.encoded(pretty: false),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return [:] }
        return object
    }

    /// JSON strings are YAML double-quoted scalars, so every value is written exactly.
    private static func quoted(_ text: String) -> String {
        json([text], pretty: false).dropFirst().dropLast().description
    }

    private static func yaml(_ state: TenantPolicyState, includesCrossTenantAccess: Bool) -> String {
        var lines = ["# Written by the TenantGate admin API.", "tenantId: \(state.tenant)"]
        if let name = state.displayName { lines.append("displayName: \(quoted(name))") }
        if !state.domains.isEmpty { lines.append("domains: [\(state.domains.map(quoted).joined(separator: ", "))]") }
        if let isolation = state.isolation {
            lines += ["isolation:", "  enabled: \(isolation.isEnabled)"]
            if isolation.rules.isEmpty {
                lines.append("  rules: []")
            } else {
                lines.append("  rules:")
                for rule in isolation.rules {
                    let tenant: String
                    switch rule.subject {
                    case .any: tenant = "*"
                    case .tenant(let id): tenant = rule.domain ?? id.description
                    }
                    let direction =
                        rule.directions == .both ? "both" : rule.directions == .inbound ? "inbound" : "outbound"
                    lines.append("    - {tenant: \(quoted(tenant)), direction: \(direction)}")
                }
            }
        }
        if includesCrossTenantAccess, let settings = state.crossTenantAccess {
            lines.append("crossTenantAccess: \(json(graphObject(settings), pretty: false))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
