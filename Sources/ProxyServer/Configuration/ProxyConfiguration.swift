import NetworkPolicy
import TenantPolicy

/// Where to listen or connect: a host name or address and a port, parsed once at the edge.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPv6]:PORT`, or `HOST` with `defaultPort`.
    public init?(parsing text: String, defaultPort: Int? = nil) {
        var hostPart = Substring(text)
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portPart = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard !hostPart.isEmpty, !hostPart.contains(" ") else { return nil }
        let port: Int
        if let portPart {
            guard let parsed = Int(portPart), (0...65535).contains(parsed) else { return nil }
            port = parsed
        } else {
            guard let defaultPort else { return nil }
            port = defaultPort
        }
        self.host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Enforce, or let blocked exchanges through and audit them as `would_block` (SPEC 4 `--mode`).
public enum EnforcementMode: String, Sendable, CaseIterable {
    case enforce
    case reportOnly = "report-only"
}

/// What to do with token responses of STSs that are not Entra (SPEC 2.3 `--non-entra-sts`).
public enum NonEntraSTSMode: String, Sendable, CaseIterable {
    case audit
    case block
}

/// What happens to a response of an intercepted STS host that carries tokens outside the token endpoint
/// (`form_post` pages, redirect fragments, JSON): judged like a token response, or refused outright.
public enum TokenFlowHandling: String, Sendable, CaseIterable {
    case judge
    case refuse
}

/// Everything the data plane needs, merged once from defaults, YAML and flags (STYLE 6).
public struct ProxyConfiguration: Sendable {
    public var listen: HostPort
    public var mode: EnforcementMode
    public var defaultCreatorTenant: TenantID?
    /// Client address ranges mapped to the creator tenant, used when a connection sends no Proxy-Authorization
    /// (SPEC 3); the most specific range wins.
    public var creatorTenantByClientAddress: AddressMap<TenantID>
    /// Ranges opened beyond the public internet for plain http and CONNECT (SPEC 4.1 `--allow-destination`).
    public var allowedDestinations: [AddressRange]
    /// Who may use the proxy (SPEC 4.1 `--allow-client`); loopback only by default.
    public var allowedClients: ClientPolicy
    /// Token-carrying responses outside the token endpoint on intercepted STS hosts.
    public var tokenFlows: TokenFlowHandling
    /// This process's other listeners (the admin listener): never a destination, whatever is allowed.
    public var otherListeners: [HostPort] = []
    public var nonEntraSTS: NonEntraSTSMode
    /// `host:port` (lowercased) → where to connect instead.
    public var upstreamOverrides: [String: HostPort]
    /// PEM files of extra roots trusted for upstream TLS, beside the system roots.
    public var upstreamCAFiles: [String]
    /// Ports CONNECT may reach (SPEC 5: 443 only unless configured).
    public var allowedConnectPorts: Set<Int>
    /// Resource hosts intercepted beside the STS hosts.
    public var extraInterceptedHosts: Set<String>
    /// When set, TRv2 headers are injected on Microsoft's login hosts (which are then intercepted); off by default.
    public var tenantRestrictionsV2: TenantRestrictionsV2?
    /// Largest request or response body inspected (bytes); larger ones get 413 / 502.
    public var maxBodyBytes: Int
    public var connectTimeoutSeconds: Int64
    public var upstreamResponseTimeoutSeconds: Int64
    /// Idle time after which a client connection is closed.
    public var clientIdleTimeoutSeconds: Int64
    /// Time a request head may take to arrive once its first byte has (Squid's `request_timeout`): 408.
    public var requestHeadTimeoutSeconds: Int64 = 30
    /// Time a client's TLS handshake with a minted leaf may take.
    public var tlsHandshakeTimeoutSeconds: Int64 = 10
    /// A blind tunnel with no byte either way for this long is closed (Envoy's connection idle default).
    public var tunnelIdleTimeoutSeconds: Int64 = 3600
    /// A pooled upstream connection unused for this long is closed.
    public var upstreamIdleTimeoutSeconds: Int64 = 60
    /// Client connections served at once; beyond it a new one is answered 503 and closed.
    public var maxClientConnections: Int = 10_000
    /// Leaf certificate contexts kept (LRU); minting is the expensive part of a new intercepted host.
    public var leafCacheCapacity: Int
    /// Idle upstream connections kept per event loop and host.
    public var maxIdleUpstreamConnectionsPerHost: Int

    public init(
        listen: HostPort = HostPort(host: "127.0.0.1", port: 3128),
        mode: EnforcementMode = .enforce,
        defaultCreatorTenant: TenantID? = nil,
        creatorTenantByClientAddress: AddressMap<TenantID> = AddressMap([]),
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
    public func upstreamAddress(for target: HostPort) -> HostPort {
        upstreamOverride(for: target) ?? target
    }

    /// The operator's own choice of address for `host:port`, if any. Such an address is trusted as configured:
    /// the destination policy judges only where clients ask to go.
    public func upstreamOverride(for target: HostPort) -> HostPort? {
        upstreamOverrides["\(target.host.lowercased()):\(target.port)"]
    }
}
