import EntraAuth
import Hummingbird
import HummingbirdAuth
import TenantPolicy

/// Refuses a tenant isolation path whose `{tenantId}` is not a GUID, before any authentication, as Power Platform
/// does.
struct TenantPathMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard (try? context.parameters.require("tenantId", as: TenantID.self)) != nil else {
            return try PowerPlatformError(
                .badRequest,
                code: "BadRequest",
                message: "Invalid tenant ID format",
                details: ["The tenant ID must be a valid GUID"]
            ).response
        }
        return try await next(request, context)
    }
}

/// Confines an authenticated caller to its own tenant's isolation policy: a Global Administrator of one tenant
/// governs no other.
struct TenantOwnershipMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let tenant = try context.parameters.require("tenantId", as: TenantID.self)
        let principal = try context.requireIdentity()
        guard principal.mayAdminister(tenant) else {
            return try PowerPlatformError(
                .forbidden,
                code: "Forbidden",
                message: "the caller's token is of tenant \(principal.tenant); it cannot administer tenant \(tenant)"
            ).response
        }
        return try await next(request, context)
    }
}
