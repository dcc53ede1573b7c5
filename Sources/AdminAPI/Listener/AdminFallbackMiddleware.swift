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
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            if path.hasPrefix("/providers/PowerPlatform.Governance/") {
                return IsolationEndpoints.notFound(path: path).response
            }
            if path.hasPrefix(AdminAPIRoutes.graphPath + "/") {
                return CrossTenantAccessEndpoints.notFound(path: path).response
            }
            return AdminAnswer.json(404, ["error": "not_found"]).response
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return AdminAnswer.json(
                413,
                ["error": ["code": "RequestEntityTooLarge", "message": "the body exceeds 1 MiB"]]
            ).response
        }
    }
}
