import EntraAuth
import Foundation
import PolicyFiles
import PolicyService
import TenantPolicy

/// Power Platform's tenant isolation admin API (`GET`/`PUT .../tenants/{tenantId}/tenantIsolationPolicy`, any
/// `api-version`) and the admin center's rule operations under `.../tenantIsolationPolicy/rules`:
/// add a rule by tenant ID or domain, change its direction, delete it, whether isolation is On or Off.
struct IsolationEndpoints: Sendable {
    static let resource = "tenantIsolationPolicy"
    let writer: PolicyWriter

    static func methodNotAllowed(_ request: AdminRequest) -> AdminAnswer {
        AdminErrorBody.powerPlatform(
            405,
            code: "MethodNotAllowed",
            message: "\(request.method) is not supported on \(request.path)"
        )
    }

    static func notFound(path: String) -> AdminAnswer {
        AdminErrorBody.powerPlatform(404, code: "NotFound", message: "no such resource: \(path)")
    }

    func get(_ tenant: TenantID) -> AdminAnswer {
        let bundle = writer.store.current().bundle
        let state = TenantPolicyState(tenant: tenant, bundle: bundle)
        guard let isolation = state.isolation else {
            return AdminErrorBody.powerPlatform(
                404,
                code: "NotFound",
                message: "tenant \(tenant) has no tenant isolation policy"
            )
        }
        return .json(
            200,
            TenantFileRenderer.powerPlatformObject(isolation, directory: bundle.isolation.directory),
            headers: etagHeader(state, bundle)
        )
    }

    func put(_ request: AdminRequest, tenant: TenantID, principal: AdminPrincipal) async -> AdminAnswer {
        let text = String(decoding: request.body, as: UTF8.self)
        let parsed: IsolationPolicy
        switch PolicyDirectoryLoader.load(files: [.init(name: "request body.json", contents: text)]) {
        case .failure(let error):
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "the tenant isolation policy is invalid",
                details: error.errors.map(\.description)
            )
        case .success(let bundle):
            guard bundle.isolation.tenants.count == 1, let only = bundle.isolation.tenants.values.first else {
                return AdminErrorBody.powerPlatform(
                    400,
                    code: "BadRequest",
                    message: "expected {\"properties\": {\"tenantId\", \"isDisabled\", \"allowedTenants\"}}"
                )
            }
            guard only.id == tenant else {
                return AdminErrorBody.powerPlatform(
                    400,
                    code: "BadRequest",
                    message: "properties.tenantId \(only.id) differs from the tenant \(tenant) in the path"
                )
            }
            parsed = only.isolation
        }
        return await edit(tenant, request: request, principal: principal, operation: "PUT", success: 200) { state in
            state.isolation = parsed
        }
    }

    func rules(_ tenant: TenantID) -> AdminAnswer {
        let bundle = writer.store.current().bundle
        let state = TenantPolicyState(tenant: tenant, bundle: bundle)
        guard let isolation = state.isolation else {
            return AdminErrorBody.powerPlatform(
                404,
                code: "NotFound",
                message: "tenant \(tenant) has no tenant isolation policy"
            )
        }
        let value = isolation.rules.map { Self.ruleObject($0, directory: bundle.isolation.directory) }
        return .json(200, ["isEnabled": isolation.isEnabled, "value": value], headers: etagHeader(state, bundle))
    }

    func addRule(_ request: AdminRequest, tenant: TenantID, principal: AdminPrincipal) async -> AdminAnswer {
        guard let body = Self.object(request.body), let text = body["tenant"] as? String ?? body["tenantId"] as? String,
            let directionText = body["direction"] as? String
        else {
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "expected {\"tenant\": ID, domain or *, \"direction\": inbound, outbound or both}"
            )
        }
        guard let directions = DirectionSet(name: directionText) else {
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "'\(directionText)' is not inbound, outbound or both"
            )
        }
        let directory = writer.store.current().bundle.isolation.directory
        let subject: IsolationRule.Subject
        let domain: String?
        switch resolve(text, directory: directory) {
        case .failure(let error): return error.answer
        case .success(let resolved): (subject, domain) = resolved
        }
        return await edit(tenant, request: request, principal: principal, operation: "POST rules", success: 201) {
            state in
            var isolation = state.isolation ?? IsolationPolicy(tenantID: tenant, isEnabled: false, rules: [])
            if isolation.rule(for: subject) != nil {
                throw PolicyWriter.Failure.rejected(
                    status: 409,
                    code: "Conflict",
                    message: "a rule for \(text) already exists; change its direction instead"
                )
            }
            isolation.upsert(IsolationRule(subject: subject, directions: directions, domain: domain))
            state.isolation = isolation
        } render: {
            Self.ruleObject(of: subject, tenant: tenant, in: $0)
        }
    }

    func changeRule(
        _ request: AdminRequest,
        tenant: TenantID,
        subject text: String,
        principal: AdminPrincipal
    )
        async -> AdminAnswer
    {
        guard let body = Self.object(request.body), let directionText = body["direction"] as? String else {
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "expected {\"direction\": inbound, outbound or both}"
            )
        }
        guard let directions = DirectionSet(name: directionText) else {
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "'\(directionText)' is not inbound, outbound or both"
            )
        }
        let directory = writer.store.current().bundle.isolation.directory
        guard case .success(let (subject, _)) = resolve(text, directory: directory) else {
            return AdminErrorBody.powerPlatform(404, code: "NotFound", message: "no rule for \(text)")
        }
        if let named = body["tenant"] as? String ?? body["tenantId"] as? String,
            (try? resolve(named, directory: directory).get().0) != subject
        {
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "a rule's tenant cannot be changed, only its direction; delete the rule and add another"
            )
        }
        return await edit(tenant, request: request, principal: principal, operation: "PATCH rules", success: 200) {
            state in
            guard var isolation = state.isolation, let existing = isolation.rule(for: subject) else {
                throw PolicyWriter.Failure.rejected(status: 404, code: "NotFound", message: "no rule for \(text)")
            }
            isolation.upsert(IsolationRule(subject: subject, directions: directions, domain: existing.domain))
            state.isolation = isolation
        } render: {
            Self.ruleObject(of: subject, tenant: tenant, in: $0)
        }
    }

    func deleteRule(
        _ request: AdminRequest,
        tenant: TenantID,
        subject text: String,
        principal: AdminPrincipal
    )
        async -> AdminAnswer
    {
        let directory = writer.store.current().bundle.isolation.directory
        guard case .success(let (subject, _)) = resolve(text, directory: directory) else {
            return AdminErrorBody.powerPlatform(404, code: "NotFound", message: "no rule for \(text)")
        }
        return await edit(tenant, request: request, principal: principal, operation: "DELETE rules", success: 204) {
            state in
            guard var isolation = state.isolation, isolation.removeRule(for: subject) != nil else {
                throw PolicyWriter.Failure.rejected(status: 404, code: "NotFound", message: "no rule for \(text)")
            }
            state.isolation = isolation
        }
    }

    /// Runs one edit through the writer and answers in Power Platform's shapes; the new policy is the body unless
    /// `render` says otherwise, and 204 answers carry none.
    private func edit(
        _ tenant: TenantID,
        request: AdminRequest,
        principal: AdminPrincipal,
        operation: String,
        success: Int,
        change: (inout TenantPolicyState) throws -> Void,
        render: ((PolicyBundle) -> Any)? = nil
    ) async -> AdminAnswer {
        func powerPlatformObjects(_ outcome: PolicyWriter.Outcome) -> (before: Any?, after: Any?) {
            let directory = outcome.bundle.isolation.directory
            return (
                outcome.before.isolation.map { TenantFileRenderer.powerPlatformObject($0, directory: directory) },
                outcome.after.isolation.map { TenantFileRenderer.powerPlatformObject($0, directory: directory) }
            )
        }
        let result = await writer.edit(tenant, .isolation, ifMatch: request.headers["if-match"], change: change) {
            outcome in
            let (before, after) = powerPlatformObjects(outcome)
            return PolicyChangeAudit.line(
                principal: principal,
                tenant: tenant,
                resource: Self.resource,
                operation: operation,
                before: before,
                after: after,
                version: outcome.bundle.version
            )
        }
        switch result {
        case .failure(let failure):
            return Self.answer(failure)
        case .success(let outcome):
            let after = powerPlatformObjects(outcome).after
            let headers = etagHeader(outcome.after, outcome.bundle)
            if success == 204 { return .empty(204, headers: headers) }
            return .json(success, render?(outcome.bundle) ?? after ?? [:], headers: headers)
        }
    }

    static func answer(_ failure: PolicyWriter.Failure) -> AdminAnswer {
        switch failure {
        case .preconditionFailed(let current):
            return AdminErrorBody.powerPlatform(
                412,
                code: "PreconditionFailed",
                message:
                    "the policy changed since it was read (If-Match does not match the current ETag); read it again",
                headers: current.map { [("etag", $0)] } ?? []
            )
        case .rejected(let status, let code, let message):
            return AdminErrorBody.powerPlatform(status, code: code, message: message)
        case .invalid(let diagnostics):
            return AdminErrorBody.powerPlatform(
                400,
                code: "BadRequest",
                message: "the change would make the policies invalid; nothing was changed",
                details: diagnostics.map(\.description)
            )
        case .storage(let message):
            return AdminErrorBody.powerPlatform(
                500,
                code: "InternalServerError",
                message: "nothing was changed: \(message)"
            )
        case .storeUnavailable(let message):
            return AdminErrorBody.powerPlatform(
                503,
                code: "PolicyStoreUnavailable",
                message: "nothing was changed: \(message); the policy in force stays, try again",
                headers: [("retry-after", "5")]
            )
        case .auditUnavailable(let message):
            return AdminErrorBody.powerPlatform(
                503,
                code: "AuditUnavailable",
                message: "the change's audit line could not be written, so nothing was changed: \(message)"
            )
        }
    }

    private func etagHeader(_ state: TenantPolicyState, _ bundle: PolicyBundle) -> [(String, String)] {
        PolicyWriter.etag(.isolation, of: state, directory: bundle.isolation.directory).map { [("etag", $0)] } ?? []
    }

    /// `*`, a tenant ID, or a domain the directory knows, with the domain kept for the answer.
    private func resolve(
        _ text: String,
        directory: TenantDirectory
    ) -> Result<(IsolationRule.Subject, String?), AdminAnswerError> {
        guard let reference = TenantReference(parsing: text) else {
            return .failure(
                .init(
                    AdminErrorBody.powerPlatform(
                        400,
                        code: "BadRequest",
                        message: "'\(text)' is not a tenant: use a tenant ID (GUID), a verified domain, or *"
                    )
                )
            )
        }
        switch reference {
        case .any: return .success((.any, nil))
        case .id(let id): return .success((.tenant(id), nil))
        case .domain(let name):
            guard let id = directory.tenant(forDomain: name) else {
                return .failure(
                    .init(
                        AdminErrorBody.powerPlatform(
                            404,
                            code: "NotFound",
                            message:
                                "domain '\(name)' does not resolve to a tenant: add it to directory.yaml or use the tenant ID"
                        )
                    )
                )
            }
            return .success((.tenant(id), name.lowercased()))
        }
    }

    /// The rule for `subject` in `tenant`'s policy as the answer shows it, after a change.
    private static func ruleObject(of subject: IsolationRule.Subject, tenant: TenantID, in bundle: PolicyBundle) -> Any
    {
        let rule = bundle.isolation.tenant(tenant)?.isolation.rule(for: subject)
        return rule.map { ruleObject($0, directory: bundle.isolation.directory) } ?? [:]
    }

    static func ruleObject(_ rule: IsolationRule, directory: TenantDirectory) -> [String: Any] {
        var object: [String: Any] = [
            "direction": rule.directions == .both ? "both" : rule.directions == .inbound ? "inbound" : "outbound"
        ]
        switch rule.subject {
        case .any: object["tenantId"] = "*"
        case .tenant(let id):
            object["tenantId"] = id.description
            if let name = directory.displayName(of: id) { object["tenantDisplayName"] = name }
        }
        if let domain = rule.domain { object["domain"] = domain }
        return object
    }

    static func object(_ body: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }
}

/// An early answer carried through a `Result`.
struct AdminAnswerError: Error {
    let answer: AdminAnswer
    init(_ answer: AdminAnswer) { self.answer = answer }
}
