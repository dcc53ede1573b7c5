import AdminAPI
import CrossTenantAccess
import EntraAuth
import Foundation
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy
import TokenInspection

/// What if: the `check` question against the policies in force, answered by the same code as `tenantgate check`.
extension AdminConsole {
    static let questionKinds: [(value: String, label: String, kind: CrossTenantAccessKind?)] = [
        ("isolation", "Tenant isolation (creator → sign-in)", nil),
        ("b2b-collaboration", "Cross-tenant access: B2B collaboration", .b2bCollaboration),
        ("b2b-direct-connect", "Cross-tenant access: B2B direct connect", .b2bDirectConnect),
        ("tenant-restrictions", "Cross-tenant access: tenant restrictions", .tenantRestrictions),
    ]

    func whatIfPage(_ request: Request, _ context: AdminRequestContext) -> Response {
        whenSignedIn(request, context, page: .whatIf) { chrome in
            let query = Self.query(request)
            let kind = Self.questionKinds.first { $0.value == query["kind"] } ?? Self.questionKinds[0]
            let direction: Direction = query["direction"] == "outbound" ? .outbound : .inbound
            var values: [String: Any] = [
                "kinds": Self.questionKinds.map { entry in
                    ["value": entry.value, "label": entry.label, "selected": entry.value == kind.value] as [String: Any]
                },
                "tenant": query["tenant"] ?? chrome.principal.tenant.description,
                "other": query["other"] ?? "",
                "inbound": direction == .inbound, "outbound": direction == .outbound,
                "user": query["user"] ?? "", "groups": query["groups"] ?? "", "app": query["app"] ?? "",
            ]
            if let tenantText = query["tenant"], let otherText = query["other"] {
                switch answer(
                    kind.kind,
                    tenantText,
                    otherText,
                    direction: direction,
                    query: query,
                    viewer: chrome.principal.tenant
                ) {
                case .failure(let error): values["error"] = error.message
                case .success(let answer): values["answer"] = Self.answerValues(answer)
                }
            }
            return renderer.page("what_if", title: "What if", chrome: chrome, values: values)
        }
    }

    private struct QuestionError: Error {
        let message: String
    }

    private func answer(
        _ kind: CrossTenantAccessKind?,
        _ tenantText: String,
        _ otherText: String,
        direction: Direction,
        query: [String: String],
        viewer: TenantID
    ) -> Result<PolicyQuestion.Answer, QuestionError> {
        let bundle = policies.current().bundle
        guard let tenant = PolicyQuestion.tenant(tenantText, in: bundle) else {
            return .failure(QuestionError(message: "'\(tenantText)' is not a tenant ID or a domain the policies know."))
        }
        // An administrator asks about connections of their own tenant, as the API confines them to it.
        let ownTenantOnly = QuestionError(
            message:
                "Ask about connections of your own tenant (\(bundle.isolation.name(viewer))): it must be one of the two."
        )
        guard let kind else {
            if otherText.lowercased() == "unknown" {
                guard tenant == viewer else { return .failure(ownTenantOnly) }
                return .success(PolicyQuestion.isolation(creator: tenant, signIn: nil, in: bundle))
            }
            if let signIn = PolicyQuestion.tenant(otherText, in: bundle) {
                guard tenant == viewer || signIn == viewer else { return .failure(ownTenantOnly) }
                return .success(PolicyQuestion.isolation(creator: tenant, signIn: signIn, in: bundle))
            }
            // A request to a resource host the directory maps (SPEC 4.2) is judged as a sign-in to its tenant.
            guard let resource = Self.resourceTenant(otherText, in: bundle.isolation.directory) else {
                return .failure(
                    QuestionError(
                        message:
                            "'\(otherText)' is not a tenant ID, a known domain, unknown, or a resource host or Azure "
                            + "DevOps organisation the directory maps."
                    )
                )
            }
            guard tenant == viewer || resource.tenant == viewer else { return .failure(ownTenantOnly) }
            var answer = PolicyQuestion.mappedDestination(creator: tenant, tenant: resource.tenant, in: bundle)
            answer.explanation =
                "A request to \(resource.via), which the directory maps to "
                + "\(bundle.isolation.name(resource.tenant)), is judged as a sign-in there, whatever token it "
                + "carries. " + answer.explanation
            return .success(answer)
        }
        guard tenant == viewer else {
            return .failure(
                QuestionError(message: "Cross-tenant access questions are about your own tenant's settings.")
            )
        }
        guard let partner = PolicyQuestion.tenant(otherText, in: bundle) else {
            return .failure(QuestionError(message: "'\(otherText)' is not a tenant ID or a domain the policies know."))
        }
        let user = (query["user"] ?? "").trimmingCharacters(in: .whitespaces)
        let groups = (query["groups"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        let app = (query["app"] ?? "").trimmingCharacters(in: .whitespaces)
        let question = CrossTenantAccessQuery(
            kind: kind,
            direction: direction,
            partner: partner,
            user: user.isEmpty ? nil : UserIdentity(id: user, groupIDs: groups),
            application: app.isEmpty ? nil : app
        )
        return .success(
            PolicyQuestion.crossTenantAccess(question, tenant: tenant, in: bundle, source: configuration.policiesSource)
        )
    }

    /// The tenant the directory maps a resource to: an Azure DevOps organisation (`dev.azure.com/ORG`,
    /// `ORG.visualstudio.com`) or a resource host (`resourceHosts`), written as a host or a URL.
    static func resourceTenant(_ text: String, in directory: TenantDirectory) -> (tenant: TenantID, via: String)? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        for scheme in ["https://", "http://"] where rest.lowercased().hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != ":" }.lowercased()
        guard !host.isEmpty, host.contains(".") else { return nil }
        let path = rest.drop { $0 != "/" }
        if let organization = AzureDevOpsOrganization.of(host: host, path: path.isEmpty ? "/" : String(path)),
            let tenant = directory.tenant(forAzureDevOpsOrganization: organization)
        {
            return (tenant, "Azure DevOps organisation \(organization)")
        }
        return directory.tenant(forResourceHost: host).map { ($0, host) }
    }

    private static func answerValues(_ answer: PolicyQuestion.Answer) -> [String: Any] {
        var items: [[String: String]] = []
        if let setting = answer.setting { items.append(["term": "Setting", "value": setting]) }
        if let configuration = answer.configuration { items.append(["term": "Configuration", "value": configuration]) }
        if let inherited = answer.inherited {
            items.append(["term": "Inherited from default", "value": inherited ? "yes" : "no"])
        }
        if let target = answer.target { items.append(["term": "Deciding target", "value": target]) }
        return [
            "decision": answer.isAllowed ? "allowed" : "blocked",
            "decisionLabel": answer.isAllowed ? "Allowed" : "Blocked",
            "explanation": answer.explanation,
            "details": items.isEmpty ? [] : [["items": items]],
        ]
    }
}
