import ExchangePolicy
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// What the machines know of one intercepted session, fixed for its life.
struct InterceptedSession {
    /// The intercepted host (canonical) and port.
    let target: HostPort
    /// The creator as the CONNECT resolved it.
    private let resolvedCreator: CreatorResolver.Resolution
    /// Whether that creator still stands (`CreatorResolver.standing`).
    private let standing: (CreatorResolver.Resolution) -> CreatorResolver.Resolution
    /// The creator for the request being judged now: a maker token's grant ends with the token, or with the policy
    /// that granted it.
    var creator: CreatorResolver.Resolution { standing(resolvedCreator) }
    /// The admitted client: its request bodies count against its share of the body memory.
    let client: IPAddress
    let tokenFlows: TokenFlowHandling
    let maxBodyBytes: Int
    let tenantRestrictionsV2: TenantRestrictionsV2?
    let tokenEndpoints: TokenEndpointMatcher
    /// The host is an STS (Entra or not): any token its answers carry is judged, not only the token endpoint's.
    let hostIsSTS: Bool
    /// The `--resource-host` pattern the host falls under: every request is judged by the tokens it carries.
    let resourcePattern: HostPattern?
    var judgesEveryRequest: Bool { resourcePattern != nil }

    init(
        target: HostPort,
        creator: CreatorResolver.Resolution,
        standing: @escaping (CreatorResolver.Resolution) -> CreatorResolver.Resolution = { $0 },
        client: IPAddress,
        tokenFlows: TokenFlowHandling,
        maxBodyBytes: Int,
        tenantRestrictionsV2: TenantRestrictionsV2?,
        resourcePattern: HostPattern? = nil
    ) {
        self.target = target
        self.resolvedCreator = creator
        self.standing = standing
        self.client = client
        self.tokenFlows = tokenFlows
        self.maxBodyBytes = maxBodyBytes
        self.tenantRestrictionsV2 = tenantRestrictionsV2
        self.resourcePattern = resourcePattern
        self.tokenEndpoints = TokenEndpointMatcher(host: target.host)
        self.hostIsSTS =
            STSHosts.entraCloud(forHost: target.host) != nil || STSHosts.isKnownNonEntraSTS(target.host)
    }
}
