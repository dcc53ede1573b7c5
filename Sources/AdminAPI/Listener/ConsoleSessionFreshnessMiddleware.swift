import Foundation
import Hummingbird
import HummingbirdAuth

/// Ends a console session that was left unused (`ConsoleSession.idleLimit`) or is older than
/// `ConsoleSession.maximumAge`, before any page or API route sees it, and notes its use otherwise.
struct ConsoleSessionFreshnessMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if var session = context.sessions.session {
            let now = Date()
            switch session.freshness(at: now) {
            case .fresh:
                break
            case .touch:
                session.lastSeen = now
                _ = context.sessions.updateSession(session)
            case .expired:
                context.sessions.clearSession()
            }
        }
        return try await next(request, context)
    }
}
