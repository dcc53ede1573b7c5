import EntraAuth
import Hummingbird
import HummingbirdAuth

/// The context of one admin listener request: who the caller is once authenticated (a bearer token or a console
/// session), and the console session, if any.
package struct AdminRequestContext: AuthRequestContext, SessionRequestContext, RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Set by `AdminAuthenticationMiddleware` for the policy endpoints.
    package var identity: AdminPrincipal?
    package let sessions: SessionContext<ConsoleSession>

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        identity = nil
        sessions = .init()
    }
}
