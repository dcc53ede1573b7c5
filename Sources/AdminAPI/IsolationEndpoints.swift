import EntraAuth
import Foundation
import Hummingbird
import PolicyFiles
import PolicyService
import TenantPolicy

/// Power Platform's tenant isolation admin API (`GET`/`PUT .../tenants/{tenantId}/tenantIsolationPolicy`, any
/// `api-version`) and the admin center's rule operations under `.../tenantIsolationPolicy/rules`:
/// add a rule by tenant ID or domain, change its direction, delete it, whether isolation is On or Off. Refusals are
/// thrown as `PowerPlatformError`s.
struct IsolationEndpoints: Sendable {
    let writer: PolicyWriter
    private let printed = PrintedAnswers()

    init(writer: PolicyWriter) {
        self.writer = writer
    }

    static func methodNotAllowed(_ request: Request) -> PowerPlatformError {
        PowerPlatformError(
            .methodNotAllowed,
            code: "MethodNotAllowed",
            message: "\(request.method.rawValue) is not supported on \(request.uri.path)"
        )
    }

    static func notFound(path: String) -> PowerPlatformError {
        PowerPlatformError(.notFound, code: "NotFound", message: "no such resource: \(path)")
    }

    func get(_ tenant: TenantID) async throws -> Response {
        let bundle = writer.store.current().bundle
        let answer = try await printed.answer("policy", tenant: tenant, version: bundle.version) {
            let state = TenantPolicyState(tenant: tenant, bundle: bundle)
            let isolation = try Self.policy(of: state)
            return PrintedAnswers.Printed(
                json: try AdminJSON.encode(
                    PowerPlatformIsolationDocument(isolation, directory: bundle.isolation.directory)
                ),
                etag: Self.etag(state, bundle)
            )
        }
        return AdminJSON.response(.ok, json: answer.json, headers: Self.etagHeader(answer.etag))
    }

    func put(
        _ request: Request,
        context: AdminRequestContext,
        tenant: TenantID,
        principal: AdminPrincipal
    ) async throws -> Response {
        let text = String(decoding: try await request.bodyData(context: context), as: UTF8.self)
        let parsed: IsolationPolicy
        switch PolicyDirectoryLoader.load(files: [.init(name: "request body.json", contents: text)]) {
        case .failure(let error):
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "the tenant isolation policy is invalid",
                details: error.errors.map(\.description)
            )
        case .success(let bundle):
            guard bundle.isolation.tenants.count == 1, let only = bundle.isolation.tenants.values.first else {
                throw PowerPlatformError(
                    .badRequest,
                    code: "BadRequest",
                    message: "expected {\"properties\": {\"tenantId\", \"isDisabled\", \"allowedTenants\"}}"
                )
            }
            guard only.id == tenant else {
                throw PowerPlatformError(
                    .badRequest,
                    code: "BadRequest",
                    message: "properties.tenantId \(only.id) differs from the tenant \(tenant) in the path"
                )
            }
            parsed = only.isolation
        }
        let outcome = try await edit(tenant, request, principal, operation: "PUT") { state in
            state.isolation = parsed
        }
        return try AdminJSON.response(
            .ok,
            Self.document(in: outcome),
            headers: Self.etagHeader(outcome.after, outcome.bundle)
        )
    }

    func rules(_ tenant: TenantID) async throws -> Response {
        let bundle = writer.store.current().bundle
        let answer = try await printed.answer("rules", tenant: tenant, version: bundle.version) {
            let state = TenantPolicyState(tenant: tenant, bundle: bundle)
            let isolation = try Self.policy(of: state)
            return PrintedAnswers.Printed(
                json: try AdminJSON.encode(IsolationRulesAnswer(isolation, directory: bundle.isolation.directory)),
                etag: Self.etag(state, bundle)
            )
        }
        return AdminJSON.response(.ok, json: answer.json, headers: Self.etagHeader(answer.etag))
    }

    func addRule(
        _ request: Request,
        context: AdminRequestContext,
        tenant: TenantID,
        principal: AdminPrincipal
    ) async throws -> Response {
        guard let body = try? await request.decode(as: NewIsolationRule.self, context: context) else {
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "expected {\"tenant\": ID, domain or *, \"direction\": inbound, outbound or both}"
            )
        }
        let directions = try Self.directions(body.direction)
        let (subject, domain) = try resolve(body.tenant, directory: writer.store.current().bundle.isolation.directory)
        let outcome = try await edit(tenant, request, principal, operation: "POST rules") { state in
            var isolation = state.isolation ?? IsolationPolicy(tenantID: tenant, isEnabled: false, rules: [])
            if isolation.rule(for: subject) != nil {
                throw PolicyWriter.Failure.rejected(
                    status: 409,
                    code: "Conflict",
                    message: "a rule for \(body.tenant) already exists; change its direction instead"
                )
            }
            isolation.upsert(IsolationRule(subject: subject, directions: directions, domain: domain))
            state.isolation = isolation
        }
        return try Self.rule(subject, tenant: tenant, in: outcome, status: .created)
    }

    func changeRule(
        _ request: Request,
        context: AdminRequestContext,
        tenant: TenantID,
        subject text: String,
        principal: AdminPrincipal
    ) async throws -> Response {
        guard let body = try? await request.decode(as: IsolationRuleChange.self, context: context) else {
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "expected {\"direction\": inbound, outbound or both}"
            )
        }
        let directions = try Self.directions(body.direction)
        let directory = writer.store.current().bundle.isolation.directory
        guard let subject = try? resolve(text, directory: directory).subject else { throw Self.noRule(for: text) }
        if let named = body.tenant, (try? resolve(named, directory: directory).subject) != subject {
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "a rule's tenant cannot be changed, only its direction; delete the rule and add another"
            )
        }
        let outcome = try await edit(tenant, request, principal, operation: "PATCH rules") { state in
            guard var isolation = state.isolation, let existing = isolation.rule(for: subject) else {
                throw PolicyWriter.Failure.rejected(status: 404, code: "NotFound", message: "no rule for \(text)")
            }
            isolation.upsert(IsolationRule(subject: subject, directions: directions, domain: existing.domain))
            state.isolation = isolation
        }
        return try Self.rule(subject, tenant: tenant, in: outcome, status: .ok)
    }

    func deleteRule(
        _ request: Request,
        tenant: TenantID,
        subject text: String,
        principal: AdminPrincipal
    ) async throws -> Response {
        let directory = writer.store.current().bundle.isolation.directory
        guard let subject = try? resolve(text, directory: directory).subject else { throw Self.noRule(for: text) }
        let outcome = try await edit(tenant, request, principal, operation: "DELETE rules") { state in
            guard var isolation = state.isolation, isolation.removeRule(for: subject) != nil else {
                throw PolicyWriter.Failure.rejected(status: 404, code: "NotFound", message: "no rule for \(text)")
            }
            state.isolation = isolation
        }
        return Response(status: .noContent, headers: Self.etagHeader(outcome.after, outcome.bundle))
    }

    /// Runs one edit through the writer with the request's `If-Match`; a failure is thrown in Power Platform's shape.
    private func edit(
        _ tenant: TenantID,
        _ request: Request,
        _ principal: AdminPrincipal,
        operation: String,
        change: (inout TenantPolicyState) throws -> Void
    ) async throws -> PolicyWriter.Outcome {
        let result = await writer.edit(
            tenant,
            .isolation,
            ifMatch: request.ifMatch,
            actor: principal,
            operation: operation,
            change: change
        )
        return try result.mapError { PowerPlatformError($0) }.get()
    }

    private static func policy(of state: TenantPolicyState) throws -> IsolationPolicy {
        guard let isolation = state.isolation else {
            throw PowerPlatformError(
                .notFound,
                code: "NotFound",
                message: "tenant \(state.tenant) has no tenant isolation policy"
            )
        }
        return isolation
    }

    private static func directions(_ name: String) throws -> DirectionSet {
        guard let directions = DirectionSet(name: name) else {
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "'\(name)' is not inbound, outbound or both"
            )
        }
        return directions
    }

    private static func noRule(for text: String) -> PowerPlatformError {
        PowerPlatformError(.notFound, code: "NotFound", message: "no rule for \(text)")
    }

    private static func etag(_ state: TenantPolicyState, _ bundle: PolicyBundle) -> String? {
        PolicyWriter.etag(.isolation, of: state, directory: bundle.isolation.directory)
    }

    private static func etagHeader(_ etag: String?) -> HTTPFields {
        etag.map { [.lowercaseETag: $0] } ?? [:]
    }

    private static func etagHeader(_ state: TenantPolicyState, _ bundle: PolicyBundle) -> HTTPFields {
        etagHeader(etag(state, bundle))
    }

    /// `*`, a tenant ID, or a domain the directory knows, with the domain kept for the answer.
    private func resolve(
        _ text: String,
        directory: TenantDirectory
    ) throws -> (subject: IsolationRule.Subject, domain: String?) {
        guard let reference = TenantReference(parsing: text) else {
            throw PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "'\(text)' is not a tenant: use a tenant ID (GUID), a verified domain, or *"
            )
        }
        switch reference {
        case .any: return (.any, nil)
        case .id(let id): return (.tenant(id), nil)
        case .domain(let name):
            guard let id = directory.tenant(forDomain: name) else {
                throw PowerPlatformError(
                    .notFound,
                    code: "NotFound",
                    message:
                        "domain '\(name)' does not resolve to a tenant: add it to directory.yaml or use the tenant ID"
                )
            }
            return (.tenant(id), name.lowercased())
        }
    }

    /// The new policy after a `PUT`; an empty object in the impossible case that the stored outcome lacks it.
    private static func document(in outcome: PolicyWriter.Outcome) -> any Encodable {
        outcome.after.isolation.map {
            PowerPlatformIsolationDocument($0, directory: outcome.bundle.isolation.directory)
        } ?? [String: String]()
    }

    /// The rule for `subject` as the answer shows it after a change; an empty object in the impossible case that the
    /// stored outcome lacks it.
    private static func rule(
        _ subject: IsolationRule.Subject,
        tenant: TenantID,
        in outcome: PolicyWriter.Outcome,
        status: HTTPResponse.Status
    ) throws -> Response {
        let rule: any Encodable =
            outcome.bundle.isolation.tenant(tenant)?.isolation.rule(for: subject).map {
                IsolationRuleAnswer($0, directory: outcome.bundle.isolation.directory)
            } ?? [String: String]()
        return try AdminJSON.response(status, rule, headers: etagHeader(outcome.after, outcome.bundle))
    }
}
