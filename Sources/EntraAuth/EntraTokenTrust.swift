import Foundation

/// Which Entra tokens are believed: signing keys, issuers, audiences, and how much clock difference is forgiven.
///
/// One shape for both kinds of token TenantGate verifies: admin API callers' and makers' (`Proxy-Authorization`).
package struct EntraTokenTrust: Sendable {
    package var keys: JWKSSource
    package var issuers: IssuerPolicy
    /// A token is accepted when its `aud` names at least one of these (the API's client ID or App ID URI).
    package var audiences: Set<String>
    /// Seconds by which `exp` and `nbf` may be missed, for clocks that differ from Entra's.
    package var clockSkew: TimeInterval
    /// Seconds after which keys from a JWKS URL are fetched again.
    package var keyRefreshInterval: TimeInterval
    /// The least time in seconds between two fetches of a JWKS URL, whatever tokens arrive.
    package var keyFetchRetryInterval: TimeInterval
    /// Told about each failed fetch of a JWKS URL, e.g. to log it; the last good keys stay in use.
    package var reportKeyFetchFailure: @Sendable (JWKSError) -> Void

    package init(
        keys: JWKSSource,
        issuers: IssuerPolicy,
        audiences: Set<String>,
        clockSkew: TimeInterval = 60,
        keyRefreshInterval: TimeInterval = 3600,
        keyFetchRetryInterval: TimeInterval = 60,
        reportKeyFetchFailure: @escaping @Sendable (JWKSError) -> Void = { _ in }
    ) {
        self.keys = keys
        self.issuers = issuers
        self.audiences = audiences
        self.clockSkew = clockSkew
        self.keyRefreshInterval = keyRefreshInterval
        self.keyFetchRetryInterval = keyFetchRetryInterval
        self.reportKeyFetchFailure = reportKeyFetchFailure
    }
}
