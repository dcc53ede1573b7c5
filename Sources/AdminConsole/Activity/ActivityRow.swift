import Foundation
import TenantPolicy

/// One decision as the Activity page shows it, from its audit line: names instead of bare IDs, and for a refusal
/// the rule that would allow it, when the signed-in administrator's tenant is the one to add it.
struct ActivityRow {
    let values: [String: Any]
    let decision: String
    let creator: TenantID?
    let signIn: TenantID?
    let clientID: String?

    /// Nil for lines that are not decisions (policy changes) or not JSON.
    init?(line: String, viewer: TenantID, names: PolicySet) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
            let decision = object["decision"] as? String
        else { return nil }
        self.decision = decision
        creator = (object["creator_tenant"] as? String).flatMap { TenantID($0) }
        signIn = (object["sign_in_tenant"] as? String).flatMap { TenantID($0) }
        clientID = object["client_id"] as? String
        let directions = Set((object["directions"] as? [String] ?? []).compactMap(Direction.init(rawValue:)))
        let fix = Self.fix(
            decision: decision,
            directions: directions,
            creator: creator,
            signIn: signIn,
            setting: object["setting"] as? String,
            viewer: viewer,
            names: names
        )
        values = [
            "time": object["time"] as? String ?? "",
            "decision": decision,
            "decisionLabel": Self.label(decision),
            "creator": creator.map(names.name) ?? "unknown",
            "signIn": signIn.map(names.name) ?? "unknown",
            "clientID": clientID ?? "",
            "host": object["host"] as? String ?? "",
            // A request judged on a resource host (a token used) rather than a token exchange (a token issued).
            "resourceRequest": object["event"] as? String == "resource_access",
            "method": object["method"] as? String ?? "",
            "reason": object["reason"] as? String ?? "",
            "correlationID": object["correlation_id"] as? String ?? "",
            "fixURL": fix.url ?? "",
            "fixLabel": fix.label,
        ]
    }

    /// True when the viewer's tenant is one side of the connection: an administrator sees their own tenant's
    /// traffic only, as the API lets them govern their own tenant only.
    func concerns(_ tenant: TenantID) -> Bool {
        creator == tenant || signIn == tenant
    }

    static func label(_ decision: String) -> String {
        switch decision {
        case "allowed": "Allowed"
        case "blocked": "Blocked"
        case "would_block": "Would block"
        case "unenforced": "Unenforced"
        case "error": "Error"
        default: decision
        }
    }

    /// The change that would allow a refused connection: a rule in the viewer's allowlist (outbound toward the
    /// sign-in tenant when the viewer's tenant created the connection, inbound from the creator when it is signed
    /// in to), or the cross-tenant access settings for a refusal of those.
    private static func fix(
        decision: String,
        directions: Set<Direction>,
        creator: TenantID?,
        signIn: TenantID?,
        setting: String?,
        viewer: TenantID,
        names: PolicySet
    ) -> (url: String?, label: String) {
        guard decision == "blocked" || decision == "would_block" else { return (nil, "") }
        if let setting, setting != "tenantIsolation" {
            return ("/console/cross-tenant-access", "Review cross-tenant access settings")
        }
        guard let creator, let signIn else { return (nil, "No rule allows an unknown tenant") }
        if directions.contains(.outbound), creator == viewer {
            return (IsolationLinks.addRule(signIn, DirectionSet.outbound), "Allow \(names.name(signIn)) outbound")
        }
        if directions.contains(.inbound), signIn == viewer {
            return (IsolationLinks.addRule(creator, DirectionSet.inbound), "Allow \(names.name(creator)) inbound")
        }
        let owner = directions.contains(.outbound) ? creator : signIn
        return (nil, "An administrator of \(names.name(owner)) can add the rule")
    }
}

/// Links into the Tenant isolation page that open the "New tenant rule" dialog filled in.
enum IsolationLinks {
    static func addRule(_ tenant: TenantID, _ directions: DirectionSet) -> String {
        let direction = directions == .both ? "both" : directions == .inbound ? "inbound" : "outbound"
        return "/console/isolation?add=\(tenant)&direction=\(direction)"
    }
}

/// The Activity page's filters, from its query: a tenant (either side), a decision, a client ID.
struct ActivityFilter {
    var tenantText = ""
    var tenant: TenantID?
    var decision = ""
    var client = ""
    var error: String?

    init(query: [String: String], names: PolicySet) {
        tenantText = query["tenant"]?.trimmingCharacters(in: .whitespaces) ?? ""
        decision = query["decision"] ?? ""
        client = query["client"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if !tenantText.isEmpty {
            tenant = TenantReference(parsing: tenantText).flatMap { names.directory.resolve($0) }
            if tenant == nil { error = "'\(tenantText)' is not a tenant ID or a domain the policies know." }
        }
    }

    func admits(_ row: ActivityRow) -> Bool {
        if !tenantText.isEmpty, tenant == nil || (row.creator != tenant && row.signIn != tenant) { return false }
        if !decision.isEmpty, row.decision != decision { return false }
        if !client.isEmpty, row.clientID?.lowercased() != client.lowercased() { return false }
        return true
    }

    /// The same filters for the live stream's URL.
    var query: String {
        var items: [URLQueryItem] = []
        if !tenantText.isEmpty { items.append(URLQueryItem(name: "tenant", value: tenantText)) }
        if !decision.isEmpty { items.append(URLQueryItem(name: "decision", value: decision)) }
        if !client.isEmpty { items.append(URLQueryItem(name: "client", value: client)) }
        guard !items.isEmpty else { return "" }
        var components = URLComponents()
        components.queryItems = items
        return "?" + (components.percentEncodedQuery ?? "")
    }
}
