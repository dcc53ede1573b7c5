import Caching
import Foundation
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// Finds the creator tenant of a connection (SPEC 3, 4.1, 4.2). Three sources, in this order:
/// 1. the maker's token in `Proxy-Authorization: Bearer`, which counts only once verified (signature, Entra issuer
///    of its own `tid`, audience, lifetime). A token that is sent and does not verify refuses the connection (407):
///    it never falls back to another source, so a forged token cannot borrow the address map or the default;
/// 2. else the client address map, by the most specific range holding the client's address (an IPv4-mapped IPv6
///    address is judged as the IPv4 address it carries): its first tenant;
/// 3. else the configured default creator tenant.
///
/// What the operator granted bounds what a token may claim (SPEC 4.2): a client whose range names tenants may act
/// only for those, a client under the default only for the default, so a genuine token of another tenant narrows
/// nothing and widens nothing: it is refused (407). A client granted nothing (a shared host) may act for the tenant
/// of any verified token, or, with `UngrantedMakers.governedOnly`, of a governed tenant only.
///
/// Verified tokens are remembered until they expire (bounded), so a client that opens a connection per request pays
/// for one signature check per token, not per connection.
package final class CreatorResolver: Sendable {
    package enum Resolution: Sendable, Equatable {
        /// The creator tenant and where it came from.
        case known(TenantID, source: Source)
        /// No source names a creator: token exchanges of the connection are answered 407.
        case unknown(CreatorUnknown)
        /// A maker's token was sent and is not believed: the CONNECT is answered 407 at once.
        case refused(reason: String)

        /// The creator tenant, when one is known (for audit lines of refusals).
        package var tenant: TenantID? {
            if case .known(let tenant, _) = self { tenant } else { nil }
        }

        /// Why no creator is known, as a token exchange's 407 and its audit line say it.
        package var whyUnknown: String {
            switch self {
            case .known: "the creator tenant is unknown"
            case .unknown(let unknown): "the creator tenant is unknown: \(unknown.reason)"
            case .refused(let refusal): "the creator tenant is unknown: \(refusal)"
            }
        }

        /// What a client does to name its creator tenant.
        package static let howToName =
            "Send the maker's token as 'Proxy-Authorization: Bearer <JWT>' on the CONNECT, or configure "
            + "--default-creator-tenant."
    }

    package enum Source: Sendable, Equatable {
        /// A verified maker token, which counts until it expires.
        case verifiedToken(expiresAt: Date)
        case clientAddress
        case defaultTenant
    }

    /// Whose verified tokens a client granted nothing may use.
    package enum UngrantedMakers: String, Sendable, CaseIterable {
        case any
        case governed
    }

    private let verifier: (any BearerTokenVerifying)?
    private let byClientAddress: AddressMap<[TenantID]>
    private let defaultCreator: TenantID?
    private let ungrantedMakers: UngrantedMakers
    private let isGoverned: @Sendable (TenantID) -> Bool
    private let verified = BoundedCache<String, VerifiedCreator>(capacity: 1024)
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - verifier: nil when no maker token can be verified; every token sent is then refused.
    ///   - byClientAddress: the tenants each client range may act for, the first one its creator without a token.
    ///   - isGoverned: whether the policy in force governs a tenant (for `UngrantedMakers.governed`).
    package init(
        verifier: (any BearerTokenVerifying)?,
        byClientAddress: AddressMap<[TenantID]>,
        defaultCreator: TenantID?,
        ungrantedMakers: UngrantedMakers = .any,
        isGoverned: @escaping @Sendable (TenantID) -> Bool = { _ in true },
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.verifier = verifier
        self.byClientAddress = byClientAddress
        self.defaultCreator = defaultCreator
        self.ungrantedMakers = ungrantedMakers
        self.isGoverned = isGoverned
        self.now = now
    }

    /// What the CONNECT's headers and address show at once: a resolution, or a maker token still to verify.
    package enum Lookup: Sendable, Equatable {
        case resolved(Resolution)
        /// A well-formed bearer token not seen before (or expired from the cache): `verify(_:)` decides.
        case verify(token: String)
    }

    /// Everything that needs no signature check: no token, a malformed header, a token verified before.
    package func lookUp(proxyAuthorization: String?, clientAddress: IPAddress?) -> Lookup {
        guard let proxyAuthorization else { return .resolved(resolveWithoutToken(clientAddress: clientAddress)) }
        let token: String
        switch BearerCredentials.token(in: proxyAuthorization) {
        case .success(let found): token = String(found)
        case .failure(let failure): return .resolved(.refused(reason: Self.sentence(failure)))
        }
        if let known = verified.value(for: token), now() < known.expiresAt {
            return .resolved(granted(known.tenant, to: clientAddress, until: known.expiresAt))
        }
        guard verifier != nil else {
            return .resolved(
                .refused(reason: "the maker token cannot be verified: no --creator-jwks or --creator-jwks-url keys")
            )
        }
        return .verify(token: token)
    }

    /// Checks a maker token's signature and claims (may fetch keys), remembers it until it expires, and holds its
    /// tenant to what the client at `clientAddress` was granted.
    package func verify(_ token: String, clientAddress: IPAddress?) async -> Resolution {
        guard let verifier else {
            return .refused(reason: "the maker token cannot be verified: no --creator-jwks or --creator-jwks-url keys")
        }
        switch await verifier.verifiedTenant(of: token) {
        case .success(let identity):
            verified.insert(VerifiedCreator(tenant: identity.tenant, expiresAt: identity.expiresAt), for: token)
            return granted(identity.tenant, to: clientAddress, until: identity.expiresAt)
        case .failure(let failure):
            return .refused(reason: Self.sentence(failure))
        }
    }

    /// Whether a connection's creator still stands for its next request. A maker token counts until it expires, and
    /// what a client granted nothing may act for follows the policy in force (`UngrantedMakers.governed`): review 19
    /// saw a session keep acting for a tenant whose policy was removed, and for a token expired a minute before. The
    /// address map and the default are start-up settings, so their grants stand.
    package func standing(_ resolution: Resolution, clientAddress: IPAddress?) -> Resolution {
        guard case .known(let tenant, source: .verifiedToken(let expiresAt)) = resolution else { return resolution }
        guard now() < expiresAt else {
            return .unknown(
                CreatorUnknown(
                    reason: "the maker token this connection was opened with has expired: open a new connection "
                        + "with a fresh one"
                )
            )
        }
        return granted(tenant, to: clientAddress, until: expiresAt)
    }

    /// A verified token's tenant, if the client may act for it.
    private func granted(_ tenant: TenantID, to clientAddress: IPAddress?, until expiresAt: Date) -> Resolution {
        if let clientAddress, let range = byClientAddress.value(for: clientAddress) {
            guard range.contains(tenant) else {
                return .refused(
                    reason: "the maker token's tenant \(tenant) is not one this client may act for (the client "
                        + "address map grants \(range.map(\.description).joined(separator: ", ")))"
                )
            }
        } else if let defaultCreator {
            guard tenant == defaultCreator else {
                return .refused(
                    reason: "the maker token's tenant \(tenant) is not one this client may act for (the default "
                        + "creator tenant \(defaultCreator) is the only one granted)"
                )
            }
        } else if ungrantedMakers == .governed, !isGoverned(tenant) {
            return .refused(
                reason:
                    "the maker token's tenant \(tenant) is not governed here, and clients granted no tenant may act "
                    + "only for governed ones (--ungranted-makers governed)"
            )
        }
        return .known(tenant, source: .verifiedToken(expiresAt: expiresAt))
    }

    /// The creator of a connection that carries no maker token (a redirected connection never can): the address
    /// map's, else the default.
    package func resolveWithoutToken(clientAddress: IPAddress?) -> Resolution {
        if let clientAddress, let tenant = byClientAddress.value(for: clientAddress)?.first {
            return .known(tenant, source: .clientAddress)
        }
        if let defaultCreator { return .known(defaultCreator, source: .defaultTenant) }
        return .unknown(
            CreatorUnknown(
                reason: "no Proxy-Authorization: Bearer token was sent, no client-address mapping matched, and no "
                    + "default creator tenant is configured"
            )
        )
    }

    /// Fixed sentences only: never the token or a claim from it.
    private static func sentence(_ failure: AuthenticationFailure) -> String {
        "the Proxy-Authorization maker token is not accepted: \(failure)"
    }
}

private struct VerifiedCreator: Sendable {
    package let tenant: TenantID
    package let expiresAt: Date
}

/// Why the creator tenant is unknown; answered with 407 on token exchanges.
package struct CreatorUnknown: Error, Sendable, Equatable {
    package let reason: String

    package init(reason: String) {
        self.reason = reason
    }
}
