import Audit
import EntraAuth
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Plumbing
import PolicyFiles
import PolicyService
import TenantPolicy

/// The policy endpoints' collaborators: who may call them, where edits are written, where they are audited.
package struct AdminPolicyAPI: Sendable {
    let authenticator: AdminAuthenticator?
    let isolation: IsolationEndpoints
    let crossTenantAccess: CrossTenantAccessEndpoints
    private let store: PolicyStore
    private let adminTenants: Set<TenantID>?

    /// - Parameters:
    ///   - authenticator: nil refuses every bearer call with 401 (no keys configured): safe by default.
    ///   - adminTenants: `--admin-tenant`: whose administrators may use the API and the console; nil: those of the
    ///     tenants the policies govern.
    package init(
        source: any PolicySource,
        store: PolicyStore,
        audit: AuditLog,
        authenticator: AdminAuthenticator?,
        adminTenants: Set<TenantID>? = nil
    ) {
        self.authenticator = authenticator
        self.store = store
        self.adminTenants = adminTenants
        let writer = PolicyWriter(source: source, store: store, audit: audit)
        isolation = IsolationEndpoints(writer: writer)
        crossTenantAccess = CrossTenantAccessEndpoints(writer: writer)
    }

    /// Whether administrators of `tenant` may use this TenantGate at all: any Entra tenant's Global Administrator
    /// holds the roles, so the roles alone would let a throwaway tenant's administrator create a policy document that
    /// joins the fleet's set. Only the operator's list, or the tenants already governed, are trusted.
    package func admits(_ tenant: TenantID) -> Bool {
        if let adminTenants { return adminTenants.contains(tenant) }
        let bundle = store.current().bundle
        return bundle.isolation.tenant(tenant) != nil || bundle.crossTenantAccess[tenant] != nil
    }

    /// A tenant's isolation policy in the API's own shape (Power Platform's document) with the ETag the API gives,
    /// so that a console edit sent with it meets the same precondition as any API call; nil without a policy.
    package func isolationDocument(for tenant: TenantID) -> (json: String, etag: String?)? {
        let bundle = isolation.writer.store.current().bundle
        let state = TenantPolicyState(tenant: tenant, bundle: bundle)
        guard let policy = state.isolation else { return nil }
        let object = TenantFileRenderer.powerPlatformObject(policy, directory: bundle.isolation.directory)
        return (
            TenantFileRenderer.json(object, pretty: false),
            PolicyWriter.etag(.isolation, of: state, directory: bundle.isolation.directory)
        )
    }

    /// The ETag of a tenant's cross-tenant access settings as the Graph endpoints give it.
    package func crossTenantAccessETag(for tenant: TenantID) -> String? {
        crossTenantAccess.etag(tenant)
    }
}

/// The admin listener's JSON routes: health, readiness and metrics without a token; Power Platform's tenant
/// isolation and Graph's cross-tenant access endpoints behind `AdminAuthenticationMiddleware`, each group with its
/// own error shape for refusals, unknown paths and unsupported methods.
package enum AdminAPIRoutes {
    static let isolationPath = "/providers/PowerPlatform.Governance/v1/tenants/:tenantId/tenantIsolationPolicy"
    static let graphPath = "/v1.0/policies/crossTenantAccessPolicy"
    /// Methods a route that lacks them answers 405 to, in its group's shape.
    static let knownMethods: [HTTPRequest.Method] = [.get, .put, .post, .patch, .delete]

    package static func add(
        to router: Router<AdminRequestContext>,
        policies: PolicyStore,
        sourceStatus: @escaping @Sendable () -> PolicySourceStatus,
        renderMetrics: @escaping @Sendable () -> [UInt8],
        policyAPI: AdminPolicyAPI?
    ) {
        addHealth(to: router, policies: policies, sourceStatus: sourceStatus, renderMetrics: renderMetrics)
        addIsolation(to: router.group(RouterPath(isolationPath)), policyAPI: policyAPI)
        addCrossTenantAccess(to: router.group(RouterPath(graphPath)), policyAPI: policyAPI)
    }

    private static func addHealth(
        to router: Router<AdminRequestContext>,
        policies: PolicyStore,
        sourceStatus: @escaping @Sendable () -> PolicySourceStatus,
        renderMetrics: @escaping @Sendable () -> [UInt8]
    ) {
        let notAllowed: @Sendable (AdminRequest) -> AdminAnswer = { _ in .json(405, ["error": "method_not_allowed"]) }
        on(router, "/healthz", [.get: { _, _ in .json(200, ["status": "ok"]) }], otherwise: notAllowed)
        on(
            router,
            "/readyz",
            [
                .get: { _, _ in
                    let snapshot = policies.current()
                    let bundle = snapshot.bundle
                    // Still ready with the store unreachable: decisions never wait on it, the last good set is
                    // enforced, and the body says so.
                    let status = sourceStatus()
                    var store: [String: Any] = ["kind": status.kind, "reachable": status.reachable]
                    // What is wrong, not the database's own error text (host names, user, server messages): that
                    // is in the log, and the probe is answered to anyone who can reach the listener.
                    if status.problem != nil {
                        store["problem"] = "the policy store cannot be reached; the proxy's log has the error"
                    }
                    if let since = status.unreachableSince {
                        store["unreachable_since"] = RFC3339.string(from: since, milliseconds: true)
                    }
                    if let contact = status.lastContact {
                        store["last_contact"] = RFC3339.string(from: contact, milliseconds: true)
                    }
                    return .json(
                        200,
                        [
                            "status": status.reachable ? "ready" : "ready, enforcing the last good policy",
                            "policy_version": bundle.version,
                            "policy_loaded_at": RFC3339.string(from: snapshot.loadedAt, milliseconds: true),
                            "governed_tenants": bundle.isolation.tenants.count,
                            "cross_tenant_access_tenants": bundle.crossTenantAccess.count,
                            "policy_store": store,
                        ]
                    )
                }
            ],
            otherwise: notAllowed
        )
        on(
            router,
            "/metrics",
            [
                .get: { _, _ in
                    AdminAnswer(
                        status: 200,
                        contentType: "text/plain; version=0.0.4; charset=utf-8",
                        body: renderMetrics()
                    )
                }
            ],
            otherwise: notAllowed
        )
    }

    private static func addIsolation(to group: RouterGroup<AdminRequestContext>, policyAPI: AdminPolicyAPI?) {
        let endpoints = policyAPI?.isolation
        group.add(middleware: TenantPathMiddleware())
        group.add(
            middleware: AdminAuthenticationMiddleware(
                area: .tenantIsolation,
                authenticator: policyAPI?.authenticator,
                admits: { policyAPI?.admits($0) ?? false },
                refusal: { error, detail in
                    AdminErrorBody.powerPlatform(
                        error.httpStatus,
                        code: error.httpStatus == 401 ? "Unauthorized" : "Forbidden",
                        message: detail ?? error.description,
                        headers: [("www-authenticate", error.wwwAuthenticate)]
                    )
                }
            )
        )
        group.add(middleware: TenantOwnershipMiddleware())
        let otherwise = IsolationEndpoints.methodNotAllowed
        on(
            group,
            "",
            [
                .get: { _, context in endpoints?.get(try tenant(context)) },
                .put: { request, context in
                    await endpoints?.put(request, tenant: try tenant(context), principal: try context.requireIdentity())
                },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "rules",
            [
                .get: { _, context in endpoints?.rules(try tenant(context)) },
                .post: { request, context in
                    await endpoints?.addRule(
                        request,
                        tenant: try tenant(context),
                        principal: try context.requireIdentity()
                    )
                },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "rules/:subject",
            [
                .patch: { request, context in
                    await endpoints?.changeRule(
                        request,
                        tenant: try tenant(context),
                        subject: try parameter("subject", context),
                        principal: try context.requireIdentity()
                    )
                },
                .delete: { request, context in
                    await endpoints?.deleteRule(
                        request,
                        tenant: try tenant(context),
                        subject: try parameter("subject", context),
                        principal: try context.requireIdentity()
                    )
                },
            ],
            otherwise: otherwise
        )
    }

    private static func addCrossTenantAccess(
        to group: RouterGroup<AdminRequestContext>,
        policyAPI: AdminPolicyAPI?
    ) {
        let endpoints = policyAPI?.crossTenantAccess
        group.add(
            middleware: AdminAuthenticationMiddleware(
                area: .crossTenantAccess,
                authenticator: policyAPI?.authenticator,
                admits: { policyAPI?.admits($0) ?? false },
                refusal: { error, detail in
                    AdminErrorBody.graph(
                        error.httpStatus,
                        code: error.httpStatus == 401 ? "InvalidAuthenticationToken" : "Authorization_RequestDenied",
                        message: detail ?? error.description,
                        headers: [("www-authenticate", error.wwwAuthenticate)]
                    )
                }
            )
        )
        let otherwise = CrossTenantAccessEndpoints.methodNotAllowed
        on(group, "", [.get: { _, context in endpoints?.readAll(try context.requireIdentity()) }], otherwise: otherwise)
        on(
            group,
            "default",
            [
                .get: { _, context in endpoints?.readDefault(try context.requireIdentity()) },
                .patch: { request, context in await endpoints?.patchDefault(request, try context.requireIdentity()) },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "default/resetToSystemDefault",
            [.post: { request, context in await endpoints?.resetDefault(request, try context.requireIdentity()) }],
            otherwise: otherwise
        )
        on(
            group,
            "partners",
            [
                .get: { _, context in endpoints?.readPartners(try context.requireIdentity()) },
                .post: { request, context in await endpoints?.addPartner(request, try context.requireIdentity()) },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "partners/:partnerTenantId",
            [
                .get: { _, context in
                    endpoints?.readPartner(try parameter("partnerTenantId", context), try context.requireIdentity())
                },
                .patch: { request, context in
                    await endpoints?.patchPartner(
                        try parameter("partnerTenantId", context),
                        request,
                        try context.requireIdentity()
                    )
                },
                .delete: { request, context in
                    await endpoints?.deletePartner(
                        try parameter("partnerTenantId", context),
                        request,
                        try context.requireIdentity()
                    )
                },
            ],
            otherwise: otherwise
        )
    }

    typealias Endpoint = @Sendable (AdminRequest, AdminRequestContext) async throws -> AdminAnswer?

    /// Registers a path's methods; the other known methods answer `otherwise` (405 in the group's shape). An
    /// endpoint answering nil has no policy API behind it, which the authentication middleware already refused.
    private static func on(
        _ router: some RouterMethods<AdminRequestContext>,
        _ path: String,
        _ endpoints: [HTTPRequest.Method: Endpoint],
        otherwise: @escaping @Sendable (AdminRequest) -> AdminAnswer
    ) {
        for method in knownMethods {
            let endpoint = endpoints[method]
            router.on(RouterPath(path), method: method) { request, context -> Response in
                let adminRequest = try await AdminRequest.read(request)
                guard let endpoint else { return otherwise(adminRequest).response }
                let answer = try await endpoint(adminRequest, context)
                return (answer ?? .json(503, ["error": "policy_api_unavailable"])).response
            }
        }
    }

    /// The tenant of the path, already validated by `TenantPathMiddleware`.
    private static func tenant(_ context: AdminRequestContext) throws -> TenantID {
        try context.parameters.require("tenantId", as: TenantID.self)
    }

    /// A path parameter, percent-decoded as the old segment matching did (`*` may arrive as `%2A`).
    private static func parameter(_ name: String, _ context: AdminRequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
