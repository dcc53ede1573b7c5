import Foundation
import JWTKit
import TenantPolicy

/// Decides whether a call to the admin API may proceed: verifies the caller's Entra bearer token against trusted keys,
/// checks its tenant, issuer, audience and lifetime, then the directory roles the admin area needs.
///
/// It holds immutable configuration and a key source, so one instance serves every connection at once.
public struct AdminAuthenticator: Sendable {
    /// Entra access tokens are a few kilobytes; far larger ones are refused before any decoding.
    static let maximumTokenBytes = 16 * 1024

    private let configuration: AdminAuthConfiguration
    private let keySource: KeySource
    private let now: @Sendable () -> Date

    /// Loads the configured keys; a JWKS URL is first fetched when the first token arrives.
    public init(
        configuration: AdminAuthConfiguration, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws(JWKSError) {
        try await self.init(configuration: configuration, now: now, fetch: JWKSDownload.fetch)
    }

    init(
        configuration: AdminAuthConfiguration, now: @escaping @Sendable () -> Date, fetch: @escaping RemoteJWKS.Fetch
    ) async throws(JWKSError) {
        switch configuration.keys {
        case .keys(let jwks):
            keySource = .fixed(try await TrustedKeys(jwks, source: "configured in the admin settings"))
        case .url(let url):
            try JWKSDownload.validate(url)
            keySource = .remote(
                RemoteJWKS(
                    url: url, refreshInterval: configuration.keyRefreshInterval,
                    retryInterval: configuration.keyFetchRetryInterval, fetch: fetch,
                    reportFailure: configuration.reportKeyFetchFailure, now: now))
        }
        self.configuration = configuration
        self.now = now
    }

    /// The caller behind an `Authorization` header value, if it may work on `area`.
    ///
    /// A failure says which HTTP answer to give (`httpStatus`, `wwwAuthenticate`). Success does not yet mean the
    /// caller may change a given tenant's settings: ask `AdminPrincipal.mayAdminister` for that.
    public func authorize(
        authorizationHeader: String?, for area: AdminArea
    ) async -> Result<AdminPrincipal, AdminAuthError> {
        do throws(AdminAuthError) {
            let principal = try await authenticate(authorizationHeader)
            guard !principal.roles.isDisjoint(with: area.grantingRoles) else { return .failure(.forbidden(area)) }
            return .success(principal)
        } catch {
            return .failure(error)
        }
    }

    private func authenticate(_ authorizationHeader: String?) async throws(AdminAuthError) -> AdminPrincipal {
        let token = try Self.bearerToken(in: authorizationHeader)
        let (algorithm, keyID) = try Self.signingFields(of: token)
        guard let keys = await keySource.keys(for: keyID) else { throw .unauthenticated(.signingKeysUnavailable) }
        let claims = try await keys.verify(token, keyID: keyID, algorithm: algorithm)
        return try principal(from: claims)
    }

    /// `Bearer <token>`, the scheme in any letter case (RFC 7235 section 2.1).
    static func bearerToken(in authorizationHeader: String?) throws(AdminAuthError) -> String {
        guard let authorizationHeader else { throw .unauthenticated(.missingCredentials) }
        let parts = authorizationHeader.split(separator: " ")
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .unauthenticated(.notBearer) }
        guard parts[1].utf8.count <= maximumTokenBytes else { throw .unauthenticated(.malformedToken) }
        return String(parts[1])
    }

    /// The header fields that choose the key, read before the signature is checked and trusted only as far as
    /// `TrustedKeys` agrees with them.
    static func signingFields(of token: String) throws(AdminAuthError) -> (algorithm: String, keyID: String) {
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse(Array(token.utf8), as: AdminClaims.self).header
        } catch {
            throw .unauthenticated(.malformedToken)
        }
        // RFC 7515 section 4.1.11: a token with critical extensions we do not implement must be refused.
        guard header.fields["crit"] == nil else { throw .unauthenticated(.unsupportedCriticalHeader) }
        guard let algorithm = header.alg else { throw .unauthenticated(.algorithmNotAllowed) }
        guard let keyID = header.kid else { throw .unauthenticated(.missingKeyID) }
        return (algorithm, keyID)
    }

    /// Checks the claims of a token whose signature is already verified.
    private func principal(from claims: AdminClaims) throws(AdminAuthError) -> AdminPrincipal {
        guard let tid = claims.tid else { throw .unauthenticated(.missingTenant) }
        guard let tenant = TenantID(tid) else { throw .unauthenticated(.invalidTenant) }
        guard let issuer = claims.iss?.value, configuration.issuers.accepts(issuer, tenant: tenant) else {
            throw .unauthenticated(.wrongIssuer)
        }
        guard let audiences = claims.aud?.value, !configuration.audiences.isDisjoint(with: audiences) else {
            throw .unauthenticated(.wrongAudience)
        }
        guard let expiry = claims.exp?.value else { throw .unauthenticated(.missingExpiry) }
        let time = now()
        guard time < expiry.addingTimeInterval(configuration.clockSkew) else { throw .unauthenticated(.expired) }
        if let notBefore = claims.nbf?.value, time.addingTimeInterval(configuration.clockSkew) < notBefore {
            throw .unauthenticated(.notYetValid)
        }
        return AdminPrincipal(
            tenant: tenant, objectID: claims.oid, displayName: claims.name,
            username: claims.preferredUsername ?? claims.upn, roles: AdminRole.held(in: claims.wids ?? []),
            applicationID: claims.azp ?? claims.appid)
    }
}

/// Fixed keys from the configuration, or the cache of a JWKS URL.
private enum KeySource: Sendable {
    case fixed(TrustedKeys)
    case remote(RemoteJWKS)

    func keys(for keyID: String) async -> TrustedKeys? {
        switch self {
        case .fixed(let keys): keys
        case .remote(let remote): await remote.keys(for: keyID)
        }
    }
}
