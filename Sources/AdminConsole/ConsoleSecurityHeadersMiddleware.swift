import AdminAPI
import HTTPTypes
import Hummingbird

/// Headers every console answer carries: scripts and styles only from TenantGate itself (no inline script, no CDN),
/// no framing, no caching of pages that show policies, no MIME sniffing, no referrer beyond the console.
struct ConsoleSecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy: HTTPField.Name = {
        guard let name = HTTPField.Name("Referrer-Policy") else {
            preconditionFailure("'Referrer-Policy' is a valid field name")
        }
        return name
    }()
}
