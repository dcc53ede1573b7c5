import Audit
import EntraAuth
import Foundation
import PolicyFiles
import PolicyService
import TenantPolicy

/// The policy endpoints' collaborators: who may call them, where edits are written, where they are audited.
package struct AdminPolicyAPI: Sendable {
    let authenticator: AdminAuthenticator?
    let isolation: IsolationEndpoints
    let crossTenantAccess: CrossTenantAccessEndpoints

    /// - Parameter authenticator: nil refuses every policy call with 401 (no keys configured): safe by default.
    package init(policiesDirectory: String, store: PolicyStore, audit: AuditLog, authenticator: AdminAuthenticator?) {
        self.authenticator = authenticator
        let writer = PolicyWriter(directory: policiesDirectory, store: store, audit: audit)
        isolation = IsolationEndpoints(writer: writer)
        crossTenantAccess = CrossTenantAccessEndpoints(writer: writer)
    }
}

/// What each admin path answers. Health and metrics need no token; policy endpoints need a verified Entra token
/// with the right directory role, for the caller's own tenant.
package struct AdminRoutes: Sendable {
    static let isolationPrefix = ["providers", "PowerPlatform.Governance", "v1", "tenants"]
    static let graphPrefix = ["v1.0", "policies", "crossTenantAccessPolicy"]

    let policies: PolicyStore
    let renderMetrics: @Sendable () -> [UInt8]
    let policyAPI: AdminPolicyAPI?

    package init(
        policies: PolicyStore,
        renderMetrics: @escaping @Sendable () -> [UInt8],
        policyAPI: AdminPolicyAPI? = nil
    ) {
        self.policies = policies
        self.renderMetrics = renderMetrics
        self.policyAPI = policyAPI
    }

    package func answer(_ request: AdminRequest) async -> AdminAnswer {
        let segments = request.segments
        if segments.starts(with: Self.isolationPrefix), segments.count >= 6, segments[5] == IsolationEndpoints.resource
        {
            guard let tenant = TenantID(segments[4]) else {
                return AdminErrorBody.powerPlatform(
                    400,
                    code: "BadRequest",
                    message: "Invalid tenant ID format",
                    details: ["The tenant ID must be a valid GUID"]
                )
            }
            switch await authorize(request, .tenantIsolation) {
            case .failure(let error):
                return AdminErrorBody.powerPlatform(
                    error.httpStatus,
                    code: error.httpStatus == 401 ? "Unauthorized" : "Forbidden",
                    message: error.description,
                    headers: [("www-authenticate", error.wwwAuthenticate)]
                )
            case .success(let (principal, api)):
                guard principal.mayAdminister(tenant) else {
                    return AdminErrorBody.powerPlatform(
                        403,
                        code: "Forbidden",
                        message:
                            "the caller's token is of tenant \(principal.tenant); it cannot administer tenant \(tenant)"
                    )
                }
                return await api.isolation.answer(
                    request,
                    tenant: tenant,
                    segments: segments.dropFirst(6),
                    principal: principal
                )
            }
        }
        if segments.starts(with: Self.graphPrefix) {
            switch await authorize(request, .crossTenantAccess) {
            case .failure(let error):
                return AdminErrorBody.graph(
                    error.httpStatus,
                    code: error.httpStatus == 401 ? "InvalidAuthenticationToken" : "Authorization_RequestDenied",
                    message: error.description,
                    headers: [("www-authenticate", error.wwwAuthenticate)]
                )
            case .success(let (principal, api)):
                return await api.crossTenantAccess.answer(
                    request,
                    segments: segments.dropFirst(3),
                    principal: principal
                )
            }
        }
        return health(request)
    }

    private func authorize(
        _ request: AdminRequest,
        _ area: AdminArea
    ) async
        -> Result<(AdminPrincipal, AdminPolicyAPI), AdminAuthError>
    {
        guard let api = policyAPI, let authenticator = api.authenticator else {
            return .failure(.unauthenticated(.signingKeysUnavailable))
        }
        return await authenticator.authorize(authorizationHeader: request.headers["authorization"], for: area)
            .map { ($0, api) }
    }

    private func health(_ request: AdminRequest) -> AdminAnswer {
        guard request.method == "GET" || request.method == "HEAD" else {
            return .json(405, ["error": "method_not_allowed"])
        }
        switch request.path {
        case "/healthz":
            return .json(200, ["status": "ok"])
        case "/readyz":
            let bundle = policies.current().bundle
            return .json(
                200,
                [
                    "status": "ready", "policy_version": bundle.version,
                    "governed_tenants": bundle.isolation.tenants.count,
                    "cross_tenant_access_tenants": bundle.crossTenantAccess.count,
                ]
            )
        case "/metrics":
            return AdminAnswer(
                status: 200,
                contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: renderMetrics()
            )
        default:
            return .json(404, ["error": "not_found"])
        }
    }
}
