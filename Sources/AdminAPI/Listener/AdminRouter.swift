import Hummingbird
import HummingbirdAuth
import PolicyService

/// Builds the admin listener's router: the middleware every route shares, then the JSON API; the console adds its
/// pages to the same router, so both see one session store and one set of rules.
package enum AdminRouter {
    /// The console session cookie's name.
    package static let sessionCookieName = "tenantgate_session"
    /// How long a console session lasts after sign-in, whatever happens meanwhile.
    package static let sessionLifetime = Duration.seconds(8 * 3600)

    /// - Parameter secureCookies: true when the listener serves TLS: the session cookie is then `Secure`.
    package static func make(
        policies: PolicyStore,
        renderMetrics: @escaping @Sendable () -> [UInt8],
        policyAPI: AdminPolicyAPI?,
        sourceStatus: @escaping @Sendable () -> PolicySourceStatus = { .directory },
        shippingStatus: @escaping @Sendable () -> [ShippingSinkStatus] = { [] },
        sessionStore: MemoryPersistDriver<ContinuousClock> = MemoryPersistDriver(),
        secureCookies: Bool,
        proxyAutoConfiguration: String? = nil
    ) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: AdminFallbackMiddleware())
        router.add(
            middleware: SessionMiddleware(
                storage: sessionStore,
                configuration: .init(
                    sessionCookieParameters: .init(
                        name: sessionCookieName,
                        path: "/",
                        secure: secureCookies,
                        sameSite: .lax
                    ),
                    keyPrefix: "console-session.",
                    defaultSessionExpiration: sessionLifetime
                )
            )
        )
        router.add(middleware: ConsoleSessionFreshnessMiddleware())
        AdminAPIRoutes.add(
            to: router,
            policies: policies,
            sourceStatus: sourceStatus,
            shippingStatus: shippingStatus,
            renderMetrics: renderMetrics,
            policyAPI: policyAPI,
            proxyAutoConfiguration: proxyAutoConfiguration
        )
        return router
    }
}
