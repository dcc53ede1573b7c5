import AdminAPI
import EntraAuth
import Foundation
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy

/// Tenant isolation: On/Off, the allowlist with each tenant's name, domain and ID, and the "New tenant rule" dialog.
extension AdminConsole {
    /// The rules a page shows; the API lists them all. An allowlist may hold a million rules, and the whole of one
    /// rendered into a page took 70 s and 2 GB of memory.
    static let rulesShown = 500

    func isolationPage(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: .isolation) { chrome in
            let tenant = chrome.principal.tenant
            let bundle = policies.current().bundle
            let policy = bundle.isolation.tenant(tenant)?.isolation
            let document = policyAPI.isolationDocument(for: tenant)
            let query = Self.query(request)
            let allRules = policy?.rules ?? []
            let rules: [[String: Any]] = allRules.prefix(Self.rulesShown).enumerated().map { index, rule in
                let subject: String
                let name: String
                var domain = rule.domain ?? ""
                switch rule.subject {
                case .any:
                    subject = "*"
                    name = "All tenants"
                case .tenant(let id):
                    subject = id.description
                    name = bundle.isolation.name(id)
                    if domain.isEmpty { domain = bundle.isolation.directory.domains(of: id).first ?? "" }
                }
                return [
                    "index": index, "subject": subject, "name": name, "domain": domain,
                    "inbound": rule.directions == .inbound, "outbound": rule.directions == .outbound,
                    "both": rule.directions == .both,
                ]
            }
            return renderer.page(
                "isolation",
                title: "Tenant isolation",
                chrome: chrome,
                values: [
                    "enabled": policy?.isEnabled ?? false,
                    "rules": rules,
                    "hasMoreRules": allRules.count > Self.rulesShown,
                    "moreRules": allRules.count - rules.count,
                    "etag": document?.etag ?? "",
                    "policyURL": "/providers/PowerPlatform.Governance/v1/tenants/\(tenant)/tenantIsolationPolicy",
                    // Only a tenant ID, as the console's own links (Activity, Report) carry: a link from anywhere
                    // opens this page, and must not offer `*` or a name that reads like another tenant.
                    "prefillTenant": query["add"].flatMap { TenantID($0) }?.description ?? "",
                    "prefillDirection": ["inbound", "outbound", "both"].contains(query["direction"] ?? "")
                        ? query["direction"] ?? "" : "",
                ]
            )
        }
    }

    /// `GET /console/tenants/lookup?q=`: what the "New tenant rule" dialog shows while the administrator types, a
    /// domain or an ID resolved by the same directory the API resolves rules with.
    func tenantLookup(_ request: Request, _ context: AdminRequestContext) throws -> Response {
        guard case .success = signedIn(request, context, page: nil) else {
            return try AdminJSON.response(.unauthorized, ["error": "sign in first"])
        }
        let text = (Self.query(request)["q"] ?? "").trimmingCharacters(in: .whitespaces)
        let set = policies.current().bundle.isolation
        if text == "*" { return try AdminJSON.response(.ok, TenantLookupAnswer(name: "All tenants", tenantId: "*")) }
        guard let reference = TenantReference(parsing: text), let tenant = set.directory.resolve(reference) else {
            let message =
                text.contains(".")
                ? "\(text) is not a domain the policies know (add it to directory.yaml, or use the tenant ID)"
                : "\(text) is not a tenant ID (GUID) or a domain"
            return try AdminJSON.response(.notFound, ["error": message])
        }
        return try AdminJSON.response(
            .ok,
            TenantLookupAnswer(
                name: set.name(tenant),
                tenantId: tenant.description,
                domains: set.directory.domains(of: tenant)
            )
        )
    }
}

/// A tenant the "New tenant rule" dialog found: its name and ID, and the domains the directory knows for it (none
/// for `*`).
private struct TenantLookupAnswer: Encodable {
    let name: String
    let tenantId: String
    var domains: [String]?
}
