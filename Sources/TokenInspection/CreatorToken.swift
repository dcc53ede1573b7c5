import TenantPolicy

/// Reads the creator tenant from the maker's token in `Proxy-Authorization: Bearer <JWT>` (SPEC 3).
public enum CreatorToken {
    public static func tenant(fromProxyAuthorization value: String) -> Result<TenantID, TokenInspectionError> {
        let trimmed = value.trimmingWhitespace()
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else {
            return .failure(.init(.notBearer, "Proxy-Authorization is not a Bearer token"))
        }
        let token = String(trimmed.dropFirst(7)).trimmingWhitespace()
        switch JWTClaimReader.claims(of: token) {
        case .failure(let error):
            return .failure(error)
        case .success(let claims):
            guard let tid = claims.tid else {
                return .failure(.init(.missingTenant, "the Proxy-Authorization token has no tid claim"))
            }
            guard let tenant = TenantID(tid) else {
                return .failure(.init(.notAGUID, "the Proxy-Authorization token's tid is not a GUID"))
            }
            return .success(tenant)
        }
    }
}
