import EntraAuth
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import TenantPolicy
import TokenInspection

/// Authenticates a call to the policy endpoints of one area and sets `context.identity`, or answers the refusal in
/// the area's error shape. The same rules for every route: a bearer token verified by `AdminAuthenticator`, or a
/// console session whose roles (read from the same `wids`) grant the area; a session's change must carry its CSRF
/// token, as a cross-site page cannot read it.
struct AdminAuthenticationMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    let area: AdminArea
    /// Nil refuses every bearer call with 401 (no keys configured): safe by default.
    let authenticator: AdminAuthenticator?
    /// Whether administrators of a tenant may use this TenantGate (`AdminPolicyAPI.admits`).
    let admits: @Sendable (TenantID) -> Bool
    /// The refusal in the area's error shape.
    let refusal: @Sendable (AdminAuthError, _ detail: String?) -> any AdminErrorDialect

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        switch await authenticate(request, context) {
        case .failure(let failure):
            return try refusal(failure.error, failure.detail).response
        case .success(let principal) where !admits(principal.tenant):
            let detail =
                "administrators of tenant \(principal.tenant) may not administer this TenantGate: it governs no "
                + "policy of that tenant, and --admin-tenant does not name it"
            return try refusal(.forbidden(area), detail).response
        case .success(let principal):
            context.identity = principal
            return try await next(request, context)
        }
    }

    private struct Failure: Error {
        let error: AdminAuthError
        var detail: String?
    }

    private func authenticate(_ request: Request, _ context: Context) async -> Result<AdminPrincipal, Failure> {
        let authorization = request.headers[.authorization]
        if authorization == nil, let session = context.sessions.session {
            guard let principal = session.principal else {
                return .failure(Failure(error: .unauthenticated(.malformedToken)))
            }
            guard principal.mayWork(on: area) else {
                return .failure(Failure(error: .forbidden(area)))
            }
            if !request.method.isSafe, !session.acceptsCSRFToken(request.headers[.csrfToken]) {
                return .failure(
                    Failure(
                        error: .forbidden(area),
                        detail: "the change does not carry the console session's CSRF token"
                    )
                )
            }
            return .success(principal)
        }
        guard let authenticator else { return .failure(Failure(error: .unauthenticated(.signingKeysUnavailable))) }
        return await authenticator.authorize(authorizationHeader: authorization, for: area).mapError {
            Failure(error: $0)
        }
    }
}

extension HTTPField.Name {
    /// The console's CSRF header: a custom header a cross-site form cannot send, carrying the session's token.
    static let csrfToken: HTTPField.Name = {
        guard let name = HTTPField.Name("X-CSRF-Token") else {
            preconditionFailure("'X-CSRF-Token' is a valid field name")
        }
        return name
    }()
}

extension HTTPRequest.Method {
    /// Methods that change nothing (RFC 9110 section 9.2.1).
    var isSafe: Bool { self == .get || self == .head || self == .options }
}
