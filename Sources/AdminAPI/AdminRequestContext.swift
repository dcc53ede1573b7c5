import EntraAuth
import Hummingbird
import HummingbirdAuth

/// The context of one admin listener request: who the caller is once authenticated (a bearer token or a console
/// session), and the console session, if any.
package struct AdminRequestContext: AuthRequestContext, SessionRequestContext, RequestContext {
    /// Policies are small; a megabyte is far more than any real one. A body over it is answered 413.
    package static let maximumBodyBytes = 1 << 20

    package var coreContext: CoreRequestContextStorage
    /// Set by `AdminAuthenticationMiddleware` for the policy endpoints.
    package var identity: AdminPrincipal?
    package let sessions: SessionContext<ConsoleSession>
    /// The caller's IP address, for bounds kept per client.
    package let clientAddress: String?

    /// The limit of every body, read or decoded.
    package var maxUploadSize: Int { Self.maximumBodyBytes }

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
        identity = nil
        sessions = .init()
    }
}
