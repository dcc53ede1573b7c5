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
    /// The caller's IP address, for bounds kept per client.
    package let clientAddress: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
        identity = nil
        sessions = .init()
    }
}
