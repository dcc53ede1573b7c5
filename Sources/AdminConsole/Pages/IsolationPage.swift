import AdminAPI
import EntraAuth
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy

/// Tenant isolation: On/Off, the allowlist with each tenant's name, domain and ID, and the "New tenant rule" dialog.
extension AdminConsole {
    func isolationPage(_ request: Request, _ context: AdminRequestContext) -> Response {
        let chrome: PageRenderer.Chrome
        switch signedIn(request, context, page: .isolation) {
        case .failure(let refusal): return refusal.response
        case .success(let found): chrome = found
        }
        let tenant = chrome.principal.tenant
        let bundle = policies.current().bundle
        let policy = bundle.isolation.tenant(tenant)?.isolation
        let document = policyAPI.isolationDocument(for: tenant)
        let query = Self.query(request)
        let rules: [[String: Any]] = (policy?.rules ?? []).enumerated().map { index, rule in
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
                "etag": document?.etag ?? "",
                "policyJSON": document?.json ?? "",
                "policyURL": "/providers/PowerPlatform.Governance/v1/tenants/\(tenant)/tenantIsolationPolicy",
                "prefillTenant": query["add"] ?? "",
                "prefillDirection": ["inbound", "outbound", "both"].contains(query["direction"] ?? "")
                    ? query["direction"] ?? "" : "",
            ]
        )
    }
}
