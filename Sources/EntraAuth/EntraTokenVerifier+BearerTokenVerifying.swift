import TokenInspection

extension EntraTokenVerifier: BearerTokenVerifying {
    package func verifiedTenant(of token: String) async -> Result<VerifiedTenant, AuthenticationFailure> {
        await verify(token).map { VerifiedTenant(tenant: $0.tenant, expiresAt: $0.expiresAt) }
    }
}
