import Foundation
import JWTKit
import TenantPolicy
import TokenInspection

/// Verifies an Entra token: signature against trusted keys (each pinned to one algorithm), issuer, audience and
/// lifetime. The one place TenantGate decides whether a token is genuine, used for admin callers and makers alike.
///
/// It holds immutable configuration and a key source, so one instance serves every connection at once.
package struct EntraTokenVerifier: Sendable {
    private let trust: EntraTokenTrust
    private let keySource: KeySource
    private let now: @Sendable () -> Date

    /// Loads the configured keys; a JWKS URL is first fetched when the first token arrives.
    package init(trust: EntraTokenTrust, now: @escaping @Sendable () -> Date = { Date() }) async throws(JWKSError) {
        try await self.init(trust: trust, now: now, fetch: JWKSDownload.fetch)
    }

    init(
        trust: EntraTokenTrust,
        now: @escaping @Sendable () -> Date,
        fetch: @escaping RemoteJWKS.Fetch
    ) async throws(JWKSError) {
        switch trust.keys {
        case .keys(let jwks):
            keySource = .fixed(try await TrustedKeys(jwks, source: "configured"))
        case .url(let url):
            try JWKSDownload.validate(url)
            keySource = .remote(
                RemoteJWKS(
                    url: url,
                    refreshInterval: trust.keyRefreshInterval,
                    retryInterval: trust.keyFetchRetryInterval,
                    fetch: fetch,
                    reportFailure: trust.reportKeyFetchFailure,
                    now: now
                )
            )
        }
        self.trust = trust
        self.now = now
    }

    /// The verified token's identity, or the one reason it is not believed.
    package func verify(_ token: some StringProtocol) async -> Result<VerifiedEntraToken, AuthenticationFailure> {
        do throws(AuthenticationFailure) {
            guard token.utf8.count <= BearerCredentials.maximumTokenBytes else { throw .malformedToken }
            let token = String(token)
            let (algorithm, keyID) = try Self.signingFields(of: token)
            guard let keys = await keySource.keys(for: keyID) else { throw .signingKeysUnavailable }
            let claims = try await keys.verify(token, keyID: keyID, algorithm: algorithm)
            return .success(try checked(claims, signedWith: keys.scope(of: keyID)))
        } catch {
            return .failure(error)
        }
    }

    /// The header fields that choose the key, read before the signature is checked and trusted only as far as
    /// `TrustedKeys` agrees with them.
    static func signingFields(of token: String) throws(AuthenticationFailure) -> (algorithm: String, keyID: String) {
        let header: JWTHeader
        do {
            header = try DefaultJWTParser().parse(Array(token.utf8), as: EntraTokenClaims.self).header
        } catch {
            throw .malformedToken
        }
        // RFC 7515 section 4.1.11: a token with critical extensions we do not implement must be refused.
        guard header.fields["crit"] == nil else { throw .unsupportedCriticalHeader }
        guard let algorithm = header.alg else { throw .algorithmNotAllowed }
        guard let keyID = header.kid else { throw .missingKeyID }
        return (algorithm, keyID)
    }

    /// Checks the claims of a token whose signature is already verified.
    private func checked(
        _ claims: EntraTokenClaims,
        signedWith scope: KeyScope?
    ) throws(AuthenticationFailure) -> VerifiedEntraToken {
        guard let tid = claims.tid else { throw .missingTenant }
        guard let tenant = TenantID(tid) else { throw .invalidTenant }
        guard let issuer = claims.iss?.value, trust.issuers.accepts(issuer, tenant: tenant) else { throw .wrongIssuer }
        guard scope?.signs(for: issuer, tenant: tenant) ?? true else { throw .keyOfAnotherIssuer }
        guard let audiences = claims.aud?.value, !trust.audiences.isDisjoint(with: audiences) else {
            throw .wrongAudience
        }
        guard let expiry = claims.exp?.value else { throw .missingExpiry }
        let time = now()
        guard time < expiry.addingTimeInterval(trust.clockSkew) else { throw .expired }
        if let notBefore = claims.nbf?.value, time.addingTimeInterval(trust.clockSkew) < notBefore {
            throw .notYetValid
        }
        return VerifiedEntraToken(
            tenant: tenant,
            objectID: claims.oid,
            displayName: claims.name,
            username: claims.preferredUsername ?? claims.upn,
            directoryRoles: claims.wids ?? [],
            applicationID: claims.azp ?? claims.appid,
            nonce: claims.nonce,
            expiresAt: expiry.addingTimeInterval(trust.clockSkew)
        )
    }
}

/// What a verified Entra token says about its holder.
package struct VerifiedEntraToken: Sendable, Equatable {
    package let tenant: TenantID
    package let objectID: String?
    package let displayName: String?
    package let username: String?
    /// Directory role template IDs (`wids`).
    package let directoryRoles: [String]
    package let applicationID: String?
    /// The `nonce` of an ID token, for the console to compare with the one its sign-in sent.
    package let nonce: String?
    /// The moment after which the token no longer verifies (its `exp` plus the forgiven clock skew).
    package let expiresAt: Date
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
