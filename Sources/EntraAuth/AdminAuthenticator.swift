import Foundation
import TenantPolicy
import TokenInspection

/// Decides whether a call to the admin API may proceed: the caller's Entra bearer token must verify
/// (`EntraTokenVerifier`), then carry a directory role that grants the admin area.
package struct AdminAuthenticator: Sendable {
    private let verifier: EntraTokenVerifier

    /// Loads the configured keys; a JWKS URL is first fetched when the first token arrives.
    package init(
        configuration: EntraTokenTrust,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws(JWKSError) {
        verifier = try await EntraTokenVerifier(trust: configuration, now: now)
    }

    init(
        configuration: EntraTokenTrust,
        now: @escaping @Sendable () -> Date,
        fetch: @escaping RemoteJWKS.Fetch
    ) async throws(JWKSError) {
        verifier = try await EntraTokenVerifier(trust: configuration, now: now, fetch: fetch)
    }

    /// The caller behind an `Authorization` header value, if it may work on `area`.
    ///
    /// A failure says which HTTP answer to give (`httpStatus`, `wwwAuthenticate`). Success does not yet mean the
    /// caller may change a given tenant's settings: ask `AdminPrincipal.mayAdminister` for that.
    package func authorize(
        authorizationHeader: String?,
        for area: AdminArea
    ) async -> Result<AdminPrincipal, AdminAuthError> {
        let token: Substring
        switch BearerCredentials.token(in: authorizationHeader) {
        case .success(let found): token = found
        case .failure(let failure): return .failure(.unauthenticated(failure))
        }
        switch await verifier.verify(token) {
        case .failure(let failure):
            return .failure(.unauthenticated(failure))
        case .success(let verified):
            let principal = AdminPrincipal(verified)
            guard principal.mayWork(on: area) else { return .failure(.forbidden(area)) }
            return .success(principal)
        }
    }
}
