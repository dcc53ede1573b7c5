import Hummingbird

/// What no route answers, in the shape of the part of the API the path belongs to: Power Platform's or Graph's 404,
/// or the health endpoints' own; a body over the limit is one 413 with the API's error shape.
struct AdminFallbackMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // A declared body over the limit is refused before a byte of it is read, and the connection closes rather
        // than drain it; so does every refusal that leaves a body unread (404, 405, 413).
        if let length = request.headers[.contentLength].flatMap({ Int($0) }),
            length > AdminRequestContext.maximumBodyBytes
        {
            return Self.closing(try Self.tooLarge(), request: request)
        }
        return Self.closing(try await answer(request, context: context, next: next), request: request)
    }

    private static func tooLarge() throws -> Response {
        try PowerPlatformError(.contentTooLarge, code: "RequestEntityTooLarge", message: "the body exceeds 1 MiB")
            .response
    }

    /// Adds `Connection: close` to a refusal of a request that came with a body.
    private static func closing(_ response: Response, request: Request) -> Response {
        let refusal = [.notFound, .methodNotAllowed, .contentTooLarge].contains(response.status)
        let hasBody = request.headers[.contentLength].map { $0 != "0" } ?? (request.headers[.transferEncoding] != nil)
        guard refusal, hasBody else { return response }
        var response = response
        response.headers[.connection] = "close"
        return response
    }

    private func answer(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return try AdminJSON.response(.methodNotAllowed, ["error": "method_not_allowed"])
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            if path.hasPrefix("/providers/PowerPlatform.Governance/") {
                return try IsolationEndpoints.notFound(path: path).response
            }
            if path.hasPrefix(AdminAPIRoutes.graphPath + "/") {
                return try CrossTenantAccessEndpoints.notFound(path: path).response
            }
            return try AdminJSON.response(.notFound, ["error": "not_found"])
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return try Self.tooLarge()
        }
    }
}
