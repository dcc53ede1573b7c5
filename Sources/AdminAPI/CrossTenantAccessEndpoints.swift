import CrossTenantAccess
import EntraAuth
import Foundation
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy

/// Microsoft Graph's cross-tenant access policy endpoints under `/v1.0/policies/crossTenantAccessPolicy`, with
/// Graph's status codes and error shape (ENTRA-FACTS 4); refusals are thrown as `GraphError`s. The caller's tenant
/// (`tid`) selects whose settings are read and written; a tenant without settings reads as the service default.
struct CrossTenantAccessEndpoints: Sendable {
    let writer: PolicyWriter

    /// `GET /v1.0/policies/crossTenantAccessPolicy`: default and partners in one document.
    func readAll(_ principal: AdminPrincipal) throws -> Response {
        try answer(.ok, settings(principal.tenant), of: principal.tenant)
    }

    /// `GET .../default`.
    func readDefault(_ principal: AdminPrincipal) throws -> Response {
        try answer(.ok, settings(principal.tenant).default, of: principal.tenant)
    }

    /// `PATCH .../default`.
    func patchDefault(
        _ request: Request,
        _ context: AdminRequestContext,
        _ principal: AdminPrincipal
    ) async throws -> Response {
        let body = try await request.bodyData(context: context)
        try await edit(request, principal, operation: "PATCH default") { try $0.applyingPatch(toDefault: body) }
        return noContent(principal.tenant)
    }

    /// `POST .../default/resetToSystemDefault`.
    func resetDefault(_ request: Request, _ principal: AdminPrincipal) async throws -> Response {
        try await edit(request, principal, operation: "POST default/resetToSystemDefault") {
            $0.resetDefaultToSystemDefault()
        }
        return noContent(principal.tenant)
    }

    /// `GET .../partners`.
    func readPartners(_ principal: AdminPrincipal) throws -> Response {
        try answer(.ok, GraphCollection(value: settings(principal.tenant).partners), of: principal.tenant)
    }

    /// `POST .../partners`: the new partner configuration is the answer.
    func addPartner(
        _ request: Request,
        _ context: AdminRequestContext,
        _ principal: AdminPrincipal
    ) async throws -> Response {
        let body = try await request.bodyData(context: context)
        let created = try? await request.decode(as: NewPartner.self, context: context).tenantId
        let outcome = try await edit(request, principal, operation: "POST partners") {
            try $0.addingPartner(json: body)
        }
        // `addingPartner` refuses a body that names no new partner, so the partner is there.
        guard let created, let partner = outcome.after.crossTenantAccess?.partner(created) else {
            return Response(status: .created, headers: etagHeader(principal.tenant))
        }
        return try answer(.created, partner, of: principal.tenant)
    }

    /// `GET .../partners/{tenantId}`.
    func readPartner(_ partnerText: String, _ principal: AdminPrincipal) throws -> Response {
        guard let partner = TenantID(partnerText),
            let configuration = settings(principal.tenant).partner(partner)
        else { throw Self.noPartner(partnerText) }
        return try answer(.ok, configuration, of: principal.tenant)
    }

    /// `PATCH .../partners/{tenantId}`.
    func patchPartner(
        _ partnerText: String,
        _ request: Request,
        _ context: AdminRequestContext,
        _ principal: AdminPrincipal
    ) async throws -> Response {
        guard let partner = TenantID(partnerText) else { throw Self.noPartner(partnerText) }
        let body = try await request.bodyData(context: context)
        try await edit(request, principal, operation: "PATCH partners/\(partner)") {
            try $0.applyingPatch(toPartner: partner, json: body)
        }
        return noContent(principal.tenant)
    }

    /// `DELETE .../partners/{tenantId}`.
    func deletePartner(
        _ partnerText: String,
        _ request: Request,
        _ principal: AdminPrincipal
    ) async throws -> Response {
        guard let partner = TenantID(partnerText) else { throw Self.noPartner(partnerText) }
        try await edit(request, principal, operation: "DELETE partners/\(partner)") { try $0.removingPartner(partner) }
        return noContent(principal.tenant)
    }

    static func methodNotAllowed(_ request: Request) -> GraphError {
        GraphError(
            .methodNotAllowed,
            code: "Request_BadRequest",
            message: "\(request.method.rawValue) is not supported on \(request.uri.path)"
        )
    }

    static func notFound(path: String) -> GraphError {
        GraphError(.notFound, code: "Request_ResourceNotFound", message: "no such resource: \(path)")
    }

    func etag(_ tenant: TenantID) -> String? {
        var state = TenantPolicyState(tenant: tenant, bundle: writer.store.current().bundle)
        if state.crossTenantAccess == nil { state.crossTenantAccess = CrossTenantAccessPolicy() }
        return PolicyWriter.etag(.crossTenantAccess, of: state, directory: TenantDirectory())
    }

    private func settings(_ tenant: TenantID) -> CrossTenantAccessPolicy {
        writer.store.current().bundle.crossTenantAccess[tenant] ?? CrossTenantAccessPolicy()
    }

    /// Runs one edit of the caller's settings through the writer; a failure is thrown in Graph's shape.
    @discardableResult
    private func edit(
        _ request: Request,
        _ principal: AdminPrincipal,
        operation: String,
        change: @escaping (CrossTenantAccessPolicy) throws -> CrossTenantAccessPolicy
    ) async throws -> PolicyWriter.Outcome {
        // An absent policy is the service default: its ETag is the service default's, so If-Match works from a GET.
        let ifMatch = request.ifMatch
        let result = await writer.edit(
            principal.tenant,
            .crossTenantAccess,
            ifMatch: nil,
            actor: principal,
            operation: operation
        ) { state in
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
        }
        return try result.mapError { GraphError($0) }.get()
    }

    /// `document` printed Graph's way (`GraphDocument.encoded`), with the ETag of `tenant`'s settings.
    private func answer(
        _ status: HTTPResponse.Status,
        _ document: some GraphDocument,
        of tenant: TenantID
    ) throws -> Response {
        let json: Data
        do {
            json = try document.encoded(pretty: false)
        } catch {
            throw GraphError(.internalServerError, code: "InternalServerError", message: "\(error)")
        }
        return AdminJSON.response(status, json: json, headers: etagHeader(tenant))
    }

    private func noContent(_ tenant: TenantID) -> Response {
        Response(status: .noContent, headers: etagHeader(tenant))
    }

    private func etagHeader(_ tenant: TenantID) -> HTTPFields {
        etag(tenant).map { [.lowercaseETag: $0] } ?? [:]
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

    private static func noPartner(_ id: String) -> GraphError {
        GraphError(.notFound, code: "Request_ResourceNotFound", message: "no partner configuration for '\(id)'")
    }
}

/// Graph's answer for a collection: `{"value": [...]}`.
private struct GraphCollection<Element: Encodable & Sendable>: GraphDocument {
    let value: [Element]
}

/// The partner a `POST .../partners` body names, for the answer; `addingPartner` reads the body itself.
private struct NewPartner: Decodable {
    let tenantId: TenantID
}
