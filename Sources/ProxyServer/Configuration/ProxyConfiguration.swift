import ExchangePolicy
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// Everything the data plane needs, merged once from defaults, YAML and flags (STYLE 6).
package struct ProxyConfiguration: Sendable {
    package var listen: HostPort
    /// `--listen-tls-cert` / `--listen-tls-key`: the listener speaks TLS (an HTTPS proxy), so maker tokens in
    /// `Proxy-Authorization` never cross the network in clear.
    package var listenTLS: (certificate: String, key: String)?
    package var mode: EnforcementMode
    package var defaultCreatorTenant: TenantID?
    /// Client address ranges mapped to the creator tenants their clients may act for, the first used when a
    /// connection sends no Proxy-Authorization (SPEC 3, 4.2); the most specific range wins.
    package var creatorTenantByClientAddress: AddressMap<[TenantID]>
    /// Whose verified maker tokens a client granted no creator tenant may use (SPEC 4.2).
    package var ungrantedMakers: CreatorResolver.UngrantedMakers = .any
    /// Ranges opened beyond the package internet for plain http and CONNECT (SPEC 4.1 `--allow-destination`).
    package var allowedDestinations: [AddressRange]
    /// `--entra-range`: addresses of Entra's token service beyond those its names are seen to resolve to. A CONNECT
    /// landing there must name an intercepted host in its TLS hello.
    package var entraRanges: [AddressRange] = []
    /// Who may use the proxy (SPEC 4.1 `--allow-client`); loopback only by default.
    package var allowedClients: ClientPolicy
    /// `--transparent-listen`: a listener for connections the kernel redirected (no proxy setting on the client).
    package var transparentListen: HostPort?
    /// `--proxy-protocol-from`: balancers whose connections must begin with a PROXY protocol header, whose client
    /// then stands for the connection's (admission, creator address map, per-client caps, audit lines).
    package var proxyProtocolFrom: [AddressRange] = []
    /// Token-carrying responses outside the token endpoint on intercepted STS hosts.
    package var tokenFlows: TokenFlowHandling
    /// This process's other listeners (the admin listener): never a destination, whatever is allowed.
    package var otherListeners: [HostPort] = []
    package var nonEntraSTS: NonEntraSTSMode
    /// `host:port` (lowercased) → where to connect instead.
    package var upstreamOverrides: [String: HostPort]
    /// `--parent-proxy`: every connection the proxy makes goes through it, unless its bypass names the destination.
    package var parentProxy: ParentProxy?
    /// PEM files of extra roots trusted for upstream TLS, beside the system roots.
    package var upstreamCAFiles: [String]
    /// Ports CONNECT may reach (SPEC 5: 443 only unless configured).
    package var allowedConnectPorts: Set<Int>
    /// Ports plain `http://` may reach (`--allow-http-port`).
    package var allowedPlainHTTPPorts: Set<Int> = [80]
    /// Resource hosts intercepted beside the STS hosts.
    package var extraInterceptedHosts: Set<String>
    /// When set, TRv2 headers are injected on Microsoft's login hosts (which are then intercepted); off by default.
    package var tenantRestrictionsV2: TenantRestrictionsV2?
    /// `--resource-host`: intercepted, every request judged (SPEC 4.2).
    package var resourceHosts: Set<HostPattern> = []
    /// `--unreadable-resource-token`.
    package var unreadableResourceToken = UnreadableResourceToken.block
    /// Largest request or response body inspected (bytes); larger ones get 413 / 502.
    package var maxBodyBytes: Int
    /// Largest request body read inside an intercepted session (token requests are a few KiB; a client assertion
    /// with its certificate chain stays well under this): 10,000 sessions may not hold a mebibyte each.
    package var maxTokenRequestBodyBytes: Int = 64 << 10
    /// Request and response bodies held in memory at once, over every connection (`BodyMemoryBudget`).
    package var bodyMemoryBudgetBytes: Int = 256 << 20
    package var connectTimeoutSeconds: Int64
    package var upstreamResponseTimeoutSeconds: Int64
    /// Idle time after which a client connection is closed.
    package var clientIdleTimeoutSeconds: Int64
    /// Time a request head may take to arrive once its first byte has (Squid's `request_timeout`): 408.
    package var requestHeadTimeoutSeconds: Int64 = 30
    /// Time a client's TLS handshake with a minted leaf may take.
    package var tlsHandshakeTimeoutSeconds: Int64 = 10
    /// A blind tunnel with no byte either way for this long is closed (Envoy's connection idle default).
    package var tunnelIdleTimeoutSeconds: Int64 = 3600
    /// A pooled upstream connection unused for this long is closed.
    package var upstreamIdleTimeoutSeconds: Int64 = 60
    /// Client connections served at once; beyond it a new one is answered 503 and closed.
    package var maxClientConnections: Int = 10_000
    /// Client connections one address may hold at once; beyond it a new one is answered 503 and closed.
    package var maxConnectionsPerClient: Int = 1_000
    /// Leaf certificate contexts kept (LRU); minting is the expensive part of a new intercepted host.
    package var leafCacheCapacity: Int
    /// Idle upstream connections kept per event loop and host.
    package var maxIdleUpstreamConnectionsPerHost: Int
    /// Idle upstream connections kept per event loop and kind over all hosts, the oldest closed to keep a newer one:
    /// a client naming thousands of origins once each left a descriptor apiece behind it (review 41 F1).
    package var maxIdleUpstreamConnections: Int = 256

    package init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 3128),
        mode: EnforcementMode = .enforce,
        defaultCreatorTenant: TenantID? = nil,
        creatorTenantByClientAddress: AddressMap<[TenantID]> = AddressMap([]),
        allowedDestinations: [AddressRange] = [],
        allowedClients: ClientPolicy = .loopbackOnly,
        tokenFlows: TokenFlowHandling = .judge,
        nonEntraSTS: NonEntraSTSMode = .audit,
        upstreamOverrides: [String: HostPort] = [:],
        upstreamCAFiles: [String] = [],
        allowedConnectPorts: Set<Int> = [443],
        extraInterceptedHosts: Set<String> = [],
        maxBodyBytes: Int = 1 << 20,
        connectTimeoutSeconds: Int64 = 10,
        upstreamResponseTimeoutSeconds: Int64 = 30,
        clientIdleTimeoutSeconds: Int64 = 120,
        leafCacheCapacity: Int = 1024,
        maxIdleUpstreamConnectionsPerHost: Int = 64
    ) {
        self.listen = listen
        self.mode = mode
        self.defaultCreatorTenant = defaultCreatorTenant
        self.creatorTenantByClientAddress = creatorTenantByClientAddress
        self.allowedDestinations = allowedDestinations
        self.allowedClients = allowedClients
        self.tokenFlows = tokenFlows
        self.nonEntraSTS = nonEntraSTS
        self.upstreamOverrides = upstreamOverrides
        self.upstreamCAFiles = upstreamCAFiles
        self.allowedConnectPorts = allowedConnectPorts
        self.extraInterceptedHosts = extraInterceptedHosts
        self.maxBodyBytes = maxBodyBytes
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.upstreamResponseTimeoutSeconds = upstreamResponseTimeoutSeconds
        self.clientIdleTimeoutSeconds = clientIdleTimeoutSeconds
        self.leafCacheCapacity = leafCacheCapacity
        self.maxIdleUpstreamConnectionsPerHost = maxIdleUpstreamConnectionsPerHost
    }

    /// Where to connect for `host:port`: the override if one is configured, else the host itself.
    package func upstreamAddress(for target: HostPort) -> HostPort {
        upstreamOverride(for: target) ?? target
    }

    /// The operator's own choice of address for `host:port`, if any. Such an address is trusted as configured:
    /// the destination policy judges only where clients ask to go.
    package func upstreamOverride(for target: HostPort) -> HostPort? {
        upstreamOverrides["\(target.host.lowercased()):\(target.port)"]
    }

    /// Whether `host` (lower case) is a name TenantGate or its operator gave whole: an STS's own name, an intercepted
    /// or resource host named exactly, an override's. Any other name a connection goes to (under a `*.suffix`
    /// resource host, under an STS's domain) was the client's to choose, and so is its lookup, counted against that
    /// client: one client's made-up `*.sharepoint.com` names filled the threads kept for the proxy's own names, and
    /// every other client's new upstream connection waited 10 s (review 49 F4).
    package func namesWhole(_ host: String) -> Bool {
        Self.stsNames.contains(host) || extraInterceptedHosts.contains(host) || resourceHosts.contains(.exact(host))
    }

    private static let stsNames = Set(STSHosts.interceptedNames)

    /// The part of this configuration that decides what a CONNECT becomes.
    package var interception: InterceptionRules {
        InterceptionRules(
            allowedConnectPorts: allowedConnectPorts,
            extraInterceptedHosts: extraInterceptedHosts,
            tenantRestrictionsV2: tenantRestrictionsV2,
            resourceHosts: resourceHosts
        )
    }
}
