import CrossTenantAccess
import EntraAuth
import Foundation
import PolicyFiles
import PolicyService
import TenantPolicy

/// Microsoft Graph's cross-tenant access policy endpoints under `/v1.0/policies/crossTenantAccessPolicy`, with
/// Graph's status codes and error shape (ENTRA-FACTS 4). The caller's tenant (`tid`) selects whose
/// settings are read and written; a tenant without settings reads as the service default.
struct CrossTenantAccessEndpoints: Sendable {
    static let resource = "crossTenantAccessPolicy"
    let writer: PolicyWriter

    /// `GET /v1.0/policies/crossTenantAccessPolicy`: default and partners in one document.
    func readAll(_ principal: AdminPrincipal) -> AdminAnswer {
        read(principal.tenant) { try $0.encoded(pretty: false) }
    }

    /// `GET .../default`.
    func readDefault(_ principal: AdminPrincipal) -> AdminAnswer {
        read(principal.tenant) { try $0.default.encoded(pretty: false) }
    }

    /// `PATCH .../default`.
    func patchDefault(_ request: AdminRequest, _ principal: AdminPrincipal) async -> AdminAnswer {
        await edit(request, principal, operation: "PATCH default", success: 204) {
            try $0.applyingPatch(toDefault: request.body)
        }
    }

    /// `POST .../default/resetToSystemDefault`.
    func resetDefault(_ request: AdminRequest, _ principal: AdminPrincipal) async -> AdminAnswer {
        await edit(request, principal, operation: "POST default/resetToSystemDefault", success: 204) {
            $0.resetDefaultToSystemDefault()
        }
    }

    /// `GET .../partners`.
    func readPartners(_ principal: AdminPrincipal) -> AdminAnswer {
        read(principal.tenant) { policy in
            let value = try policy.partners.map {
                try JSONSerialization.jsonObject(with: $0.encoded(pretty: false))
            }
            return try JSONSerialization.data(withJSONObject: ["value": value], options: [.sortedKeys])
        }
    }

    /// `POST .../partners`.
    func addPartner(_ request: AdminRequest, _ principal: AdminPrincipal) async -> AdminAnswer {
        let created = (IsolationEndpoints.object(request.body)?["tenantId"] as? String).flatMap { TenantID($0) }
        return await edit(request, principal, operation: "POST partners", success: 201, created: created) {
            try $0.addingPartner(json: request.body)
        }
    }

    /// `GET .../partners/{tenantId}`.
    func readPartner(_ partnerText: String, _ principal: AdminPrincipal) -> AdminAnswer {
        guard let partner = TenantID(partnerText),
            let configuration = settings(principal.tenant).partner(partner)
        else { return Self.notFound(partnerText) }
        return Self.document(200, configuration, etag: etag(principal.tenant))
    }

    /// `PATCH .../partners/{tenantId}`.
    func patchPartner(
        _ partnerText: String,
        _ request: AdminRequest,
        _ principal: AdminPrincipal
    ) async
        -> AdminAnswer
    {
        guard let partner = TenantID(partnerText) else { return Self.notFound(partnerText) }
        return await edit(request, principal, operation: "PATCH partners/\(partner)", success: 204) {
            try $0.applyingPatch(toPartner: partner, json: request.body)
        }
    }

    /// `DELETE .../partners/{tenantId}`.
    func deletePartner(
        _ partnerText: String,
        _ request: AdminRequest,
        _ principal: AdminPrincipal
    ) async
        -> AdminAnswer
    {
        guard let partner = TenantID(partnerText) else { return Self.notFound(partnerText) }
        return await edit(request, principal, operation: "DELETE partners/\(partner)", success: 204) {
            try $0.removingPartner(partner)
        }
    }

    static func methodNotAllowed(_ request: AdminRequest) -> AdminAnswer {
        AdminErrorBody.graph(
            405,
            code: "Request_BadRequest",
            message: "\(request.method) is not supported on \(request.path)"
        )
    }

    static func notFound(path: String) -> AdminAnswer {
        AdminErrorBody.graph(404, code: "Request_ResourceNotFound", message: "no such resource: \(path)")
    }

    private func settings(_ tenant: TenantID) -> CrossTenantAccessPolicy {
        writer.store.current().bundle.crossTenantAccess[tenant] ?? CrossTenantAccessPolicy()
    }

    func etag(_ tenant: TenantID) -> String? {
        var state = TenantPolicyState(tenant: tenant, bundle: writer.store.current().bundle)
        if state.crossTenantAccess == nil { state.crossTenantAccess = CrossTenantAccessPolicy() }
        return PolicyWriter.etag(.crossTenantAccess, of: state, directory: TenantDirectory())
    }

    private func read(_ tenant: TenantID, _ encode: (CrossTenantAccessPolicy) throws -> Data) -> AdminAnswer {
        do {
            return AdminAnswer(
                status: 200,
                headers: etag(tenant).map { [("etag", $0)] } ?? [],
                body: Array(try encode(settings(tenant)))
            )
        } catch {
            return AdminErrorBody.graph(500, code: "InternalServerError", message: "\(error)")
        }
    }

    private func edit(
        _ request: AdminRequest,
        _ principal: AdminPrincipal,
        operation: String,
        success: Int,
        created: TenantID? = nil,
        change: @escaping (CrossTenantAccessPolicy) throws -> CrossTenantAccessPolicy
    ) async -> AdminAnswer {
        let tenant = principal.tenant
        // An absent policy is the service default: its ETag is the service default's, so If-Match works from a GET.
        let ifMatch = request.headers["if-match"]
        let result = await writer.edit(
            tenant,
            .crossTenantAccess,
            ifMatch: nil,
            change: { state in
                let current = state.crossTenantAccess ?? CrossTenantAccessPolicy()
                if let ifMatch {
                    var shown = state
                    shown.crossTenantAccess = current
                    let etag = PolicyWriter.etag(.crossTenantAccess, of: shown, directory: TenantDirectory())
                    let matches =
                        ifMatch == "*"
                        || ifMatch.split(separator: ",").contains {
                            $0.trimmingCharacters(in: .whitespaces) == etag
                        }
                    if !matches { throw PolicyWriter.Failure.preconditionFailed(current: etag) }
                }
                do {
                    state.crossTenantAccess = try change(current)
                } catch let error as CrossTenantAccessDocumentError {
                    throw PolicyWriter.Failure.rejected(
                        status: Self.status(error.code),
                        code: Self.code(error.code),
                        message: error.description
                    )
                }
            },
            auditLine: { outcome in
                PolicyChangeAudit.line(
                    principal: principal,
                    tenant: tenant,
                    resource: Self.resource,
                    operation: operation,
                    before: outcome.before.crossTenantAccess.flatMap(Self.object),
                    after: outcome.after.crossTenantAccess.flatMap(Self.object),
                    version: outcome.bundle.version
                )
            }
        )
        switch result {
        case .failure(let failure):
            return Self.answer(failure)
        case .success(let outcome):
            let headers = etag(tenant).map { [("etag", $0)] } ?? []
            if let created, let partner = outcome.after.crossTenantAccess?.partner(created) {
                return Self.document(success, partner, etag: headers.first?.1)
            }
            return .empty(success, headers: headers)
        }
    }

    static func answer(_ failure: PolicyWriter.Failure) -> AdminAnswer {
        switch failure {
        case .preconditionFailed(let current):
            return AdminErrorBody.graph(
                412,
                code: "Request_PreconditionFailed",
                message: "the settings changed since they were read (If-Match does not match the current ETag)",
                headers: current.map { [("etag", $0)] } ?? []
            )
        case .rejected(let status, let code, let message):
            return AdminErrorBody.graph(status, code: code, message: message)
        case .invalid(let diagnostics):
            return AdminErrorBody.graph(
                400,
                code: "Request_BadRequest",
                message: "the change would make the policies invalid; nothing was changed: "
                    + diagnostics.map(\.description).joined(separator: "; ")
            )
        case .storage(let message):
            return AdminErrorBody.graph(500, code: "InternalServerError", message: "nothing was changed: \(message)")
        case .storeUnavailable(let message):
            return AdminErrorBody.graph(
                503,
                code: "ServiceUnavailable",
                message: "nothing was changed: \(message); the policy in force stays, try again",
                headers: [("retry-after", "5")]
            )
        case .auditUnavailable(let message):
            return AdminErrorBody.graph(
                503,
                code: "ServiceUnavailable",
                message: "the change's audit line could not be written, so nothing was changed: \(message)"
            )
        }
    }

    private static func status(_ code: CrossTenantAccessDocumentError.Code) -> Int {
        switch code {
        case .invalidDocument, .readOnlyProperty: 400
        case .partnerNotFound: 404
        case .partnerAlreadyExists: 409
        }
    }

    private static func code(_ code: CrossTenantAccessDocumentError.Code) -> String {
        switch code {
        case .invalidDocument, .readOnlyProperty: "Request_BadRequest"
        case .partnerNotFound: "Request_ResourceNotFound"
        case .partnerAlreadyExists: "Request_MultipleObjectsWithSameKeyValue"
        }
    }

    private static func notFound(_ id: String) -> AdminAnswer {
        AdminErrorBody.graph(404, code: "Request_ResourceNotFound", message: "no partner configuration for '\(id)'")
    }

    private static func document(_ status: Int, _ document: some GraphDocument, etag: String?) -> AdminAnswer {
        let body = (try? document.encoded(pretty: false)).map(Array.init) ?? Array("{}".utf8)
        return AdminAnswer(status: status, headers: etag.map { [("etag", $0)] } ?? [], body: body)
    }

    private static func object(_ policy: CrossTenantAccessPolicy) -> Any? {
        (try? policy.encoded(pretty: false)).flatMap { try? JSONSerialization.jsonObject(with: $0) }
    }
}
