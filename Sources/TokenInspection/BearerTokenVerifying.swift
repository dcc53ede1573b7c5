import Foundation
import TenantPolicy

/// Checks a bearer token's signature and claims (issuer, audience, lifetime) and says whose it is. EntraAuth's
/// `EntraTokenVerifier` is the one in service; the decision core (`CreatorResolver`) knows only this, so it carries
/// no HTTP client, NIO or JWT library, and its tests can hand it any answer.
package protocol BearerTokenVerifying: Sendable {
    func verifiedTenant(of token: String) async -> Result<VerifiedTenant, AuthenticationFailure>
}

/// The tenant a verified token belongs to, and until when it verifies.
package struct VerifiedTenant: Sendable, Equatable {
    package let tenant: TenantID
    package let expiresAt: Date

    package init(tenant: TenantID, expiresAt: Date) {
        self.tenant = tenant
        self.expiresAt = expiresAt
    }
}
