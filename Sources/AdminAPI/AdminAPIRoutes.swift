import EntraAuth
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore
import PolicyService
import TenantPolicy

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
        shippingStatus: @escaping @Sendable () -> [ShippingSinkStatus] = { [] },
        renderMetrics: @escaping @Sendable () -> [UInt8],
        policyAPI: AdminPolicyAPI?,
        proxyAutoConfiguration: String? = nil
    ) {
        addHealth(
            to: router,
            policies: policies,
            sourceStatus: sourceStatus,
            shippingStatus: shippingStatus,
            renderMetrics: renderMetrics
        )
        addProxyAutoConfiguration(to: router, script: proxyAutoConfiguration)
        addIsolation(to: router.group(RouterPath(isolationPath)), policyAPI: policyAPI)
        addCrossTenantAccess(to: router.group(RouterPath(graphPath)), policyAPI: policyAPI)
    }

    private static func addHealth(
        to router: Router<AdminRequestContext>,
        policies: PolicyStore,
        sourceStatus: @escaping @Sendable () -> PolicySourceStatus,
        shippingStatus: @escaping @Sendable () -> [ShippingSinkStatus],
        renderMetrics: @escaping @Sendable () -> [UInt8]
    ) {
        let notAllowed: @Sendable (Request) throws -> Response = { _ in
            try AdminJSON.response(.methodNotAllowed, ["error": "method_not_allowed"])
        }
        on(router, "/healthz", [.get: { _, _ in try AdminJSON.response(.ok, ["status": "ok"]) }], otherwise: notAllowed)
        on(
            router,
            "/readyz",
            [
                .get: { _, _ in
                    try AdminJSON.response(
                        .ok,
                        ReadinessAnswer(
                            policies.current(),
                            source: sourceStatus(),
                            shipping: shippingStatus()
                        )
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
                    Response(
                        status: .ok,
                        headers: [.lowercaseContentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: renderMetrics()))
                    )
                }
            ],
            otherwise: notAllowed
        )
    }

    /// `/proxy.pac`: unauthenticated (browsers and WPAD fetch it without credentials) and cacheable for five minutes.
    private static func addProxyAutoConfiguration(to router: Router<AdminRequestContext>, script: String?) {
        on(
            router,
            "/proxy.pac",
            [
                .get: { _, _ in
                    guard let script else {
                        return try AdminJSON.response(
                            .notFound,
                            [
                                "error": "not_configured",
                                "message":
                                    "the address clients reach the proxy by is not known (it listens on every "
                                    + "address, or on a port chosen at start): name it with --pac-proxy HOST:PORT",
                            ]
                        )
                    }
                    return Response(
                        status: .ok,
                        headers: [
                            .lowercaseContentType: "application/x-ns-proxy-autoconfig",
                            .lowercaseCacheControl: "public, max-age=300",
                        ],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: script))
                    )
                }
            ],
            otherwise: { _ in try AdminJSON.response(.methodNotAllowed, ["error": "method_not_allowed"]) }
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
                    PowerPlatformError(
                        HTTPResponse.Status(code: error.httpStatus),
                        code: error.httpStatus == 401 ? "Unauthorized" : "Forbidden",
                        message: detail ?? error.description,
                        headers: [.lowercaseWWWAuthenticate: error.wwwAuthenticate]
                    )
                }
            )
        )
        group.add(middleware: TenantOwnershipMiddleware())
        let otherwise = { @Sendable request in try IsolationEndpoints.methodNotAllowed(request).response }
        on(
            group,
            "",
            [
                .get: { _, context in try await endpoints?.get(try tenant(context)) },
                .put: { request, context in
                    try await endpoints?.put(
                        request,
                        context: context,
                        tenant: try tenant(context),
                        principal: try context.requireIdentity()
                    )
                },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "rules",
            [
                .get: { _, context in try await endpoints?.rules(try tenant(context)) },
                .post: { request, context in
                    try await endpoints?.addRule(
                        request,
                        context: context,
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
                    try await endpoints?.changeRule(
                        request,
                        context: context,
                        tenant: try tenant(context),
                        subject: try parameter("subject", context),
                        principal: try context.requireIdentity()
                    )
                },
                .delete: { request, context in
                    try await endpoints?.deleteRule(
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
                    GraphError(
                        HTTPResponse.Status(code: error.httpStatus),
                        code: error.httpStatus == 401 ? "InvalidAuthenticationToken" : "Authorization_RequestDenied",
                        message: detail ?? error.description,
                        headers: [.lowercaseWWWAuthenticate: error.wwwAuthenticate]
                    )
                }
            )
        )
        let otherwise = { @Sendable request in try CrossTenantAccessEndpoints.methodNotAllowed(request).response }
        on(
            group,
            "",
            [.get: { _, context in try endpoints?.readAll(try context.requireIdentity()) }],
            otherwise: otherwise
        )
        on(
            group,
            "default",
            [
                .get: { _, context in try endpoints?.readDefault(try context.requireIdentity()) },
                .patch: { request, context in
                    try await endpoints?.patchDefault(request, context, try context.requireIdentity())
                },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "default/resetToSystemDefault",
            [.post: { request, context in try await endpoints?.resetDefault(request, try context.requireIdentity()) }],
            otherwise: otherwise
        )
        on(
            group,
            "partners",
            [
                .get: { _, context in try endpoints?.readPartners(try context.requireIdentity()) },
                .post: { request, context in
                    try await endpoints?.addPartner(request, context, try context.requireIdentity())
                },
            ],
            otherwise: otherwise
        )
        on(
            group,
            "partners/:partnerTenantId",
            [
                .get: { _, context in
                    try endpoints?.readPartner(try parameter("partnerTenantId", context), try context.requireIdentity())
                },
                .patch: { request, context in
                    try await endpoints?.patchPartner(
                        try parameter("partnerTenantId", context),
                        request,
                        context,
                        try context.requireIdentity()
                    )
                },
                .delete: { request, context in
                    try await endpoints?.deletePartner(
                        try parameter("partnerTenantId", context),
                        request,
                        try context.requireIdentity()
                    )
                },
            ],
            otherwise: otherwise
        )
    }

    /// An endpoint's answer; nil when no policy API is behind it, which the authentication middleware already
    /// refused.
    typealias Endpoint = @Sendable (Request, AdminRequestContext) async throws -> Response?

    /// Registers a path's methods; the other known methods answer `otherwise` (405 in the group's shape).
    ///
    /// Every request's body is read whole first, within `AdminRequestContext.maximumBodyBytes`: a body over it is the
    /// 413 on every route, and the endpoints read it again from memory. An endpoint's refusal, thrown in its dialect,
    /// is answered here rather than thrown on: the session middleware saves a session only with an answer.
    private static func on(
        _ router: some RouterMethods<AdminRequestContext>,
        _ path: String,
        _ endpoints: [HTTPRequest.Method: Endpoint],
        otherwise: @escaping @Sendable (Request) throws -> Response
    ) {
        for method in knownMethods {
            let endpoint = endpoints[method]
            router.on(RouterPath(path), method: method) { request, context -> Response in
                var request = request
                _ = try await request.collectBody(upTo: context.maxUploadSize)
                guard let endpoint else { return try otherwise(request) }
                do {
                    return try await endpoint(request, context)
                        ?? AdminJSON.response(.serviceUnavailable, ["error": "policy_api_unavailable"])
                } catch let refusal as any AdminErrorDialect {
                    return try refusal.response
                }
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
