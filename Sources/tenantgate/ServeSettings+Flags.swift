import AdminConsole
import Audit
import EntraAuth
import ExchangePolicy
import Foundation
import NetworkPolicy
import PolicyDatabase
import ProxyServer
import Shipping
import TenantGateApp
import TenantPolicy
import TokenInspection

/// `serve`'s settings from its arguments (the configuration file's among them, `ConfigurationArguments`) and the
/// defaults, merged once (STYLE 6).
extension ServeSettings {
    init(flags: ServeCommand) throws {
        var auditSync = AuditSync.always
        var admin: HostPort?
        let adminTLS: (certificate: String, key: String)?
        var adminAuth: EntraTokenTrust?

        let listenText = flags.listen ?? "127.0.0.1:3128"
        guard let listen = HostPort(parsing: listenText) else {
            throw ServeSetupError("--listen: '\(listenText)' is not HOST:PORT")
        }
        var proxy = ProxyConfiguration(listen: listen)
        proxy.transparentListen = try flags.transparentListen.map { text in
            guard let address = HostPort(parsing: text), address.port > 0 else {
                throw ServeSetupError("--transparent-listen: '\(text)' is not HOST:PORT (a port of its own, not 0)")
            }
            return address
        }

        let modeText = flags.mode ?? "enforce"
        guard let mode = EnforcementMode(rawValue: modeText) else {
            throw ServeSetupError("--mode: '\(modeText)' is not enforce or report-only")
        }
        proxy.mode = mode

        let nonEntraText = flags.nonEntraSTS ?? "audit"
        guard let nonEntra = NonEntraSTSMode(rawValue: nonEntraText) else {
            throw ServeSetupError("--non-entra-sts: '\(nonEntraText)' is not audit or block")
        }
        proxy.nonEntraSTS = nonEntra

        let unreadableText = flags.unreadableResourceToken ?? "block"
        guard let unreadable = UnreadableResourceToken(rawValue: unreadableText) else {
            throw ServeSetupError("--unreadable-resource-token: '\(unreadableText)' is not allow or block")
        }
        proxy.unreadableResourceToken = unreadable
        proxy.resourceHosts = Set(
            try flags.resourceHost.map { text in
                guard let pattern = HostPattern(parsing: text) else {
                    throw ServeSetupError("--resource-host: '\(text)' is not a host name or *.suffix")
                }
                return pattern
            }
        )

        var tenantNames = TenantNames()
        if let creatorText = flags.defaultCreatorTenant {
            tenantNames.defaultCreator = try Self.tenant(creatorText, flag: "--default-creator-tenant")
        }
        for entry in flags.creatorByClientAddress {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let address = String(parts[0])
            guard let range = AddressRange(cidr: address) else {
                throw ServeSetupError("creator-by-client-address: '\(address)' is not an IP address or CIDR range")
            }
            let granted = parts.count == 2 ? parts[1].split(separator: ",").map(String.init) : []
            guard !granted.isEmpty else {
                throw ServeSetupError("creator-by-client-address: '\(address)' grants no tenant")
            }
            let tenants = try granted.map { text in try Self.tenant(text, flag: "creator-by-client-address") }
            tenantNames.creatorRanges.append((range, tenants))
        }
        let ungrantedText = flags.ungrantedMakers ?? "any"
        guard let ungranted = CreatorResolver.UngrantedMakers(rawValue: ungrantedText) else {
            throw ServeSetupError("--ungranted-makers: '\(ungrantedText)' is not any or governed")
        }
        proxy.ungrantedMakers = ungranted
        proxy.allowedDestinations = try Self.ranges(
            flags.allowDestination,
            flag: "--allow-destination"
        )
        proxy.entraRanges = try Self.ranges(flags.entraRange, flag: "--entra-range")
        let clients = try Self.ranges(flags.allowClient, flag: "--allow-client")
        if !clients.isEmpty { proxy.allowedClients = ClientPolicy(allowed: clients) }
        proxy.proxyProtocolFrom = try Self.ranges(flags.proxyProtocolFrom, flag: "--proxy-protocol-from")
        func limit<T: BinaryInteger>(_ flag: T?, _ name: String, into value: inout T) throws {
            guard let chosen = flag else { return }
            guard chosen > 0 else { throw ServeSetupError("--\(name): must be a positive number, got \(chosen)") }
            value = chosen
        }
        try limit(
            flags.requestHeadTimeout,
            "request-head-timeout",
            into: &proxy.requestHeadTimeoutSeconds
        )
        try limit(
            flags.tlsHandshakeTimeout,
            "tls-handshake-timeout",
            into: &proxy.tlsHandshakeTimeoutSeconds
        )
        try limit(flags.idleTimeout, "idle-timeout", into: &proxy.clientIdleTimeoutSeconds)
        try limit(
            flags.tunnelIdleTimeout,
            "tunnel-idle-timeout",
            into: &proxy.tunnelIdleTimeoutSeconds
        )
        try limit(flags.connectTimeout, "connect-timeout", into: &proxy.connectTimeoutSeconds)
        try limit(
            flags.upstreamResponseTimeout,
            "upstream-response-timeout",
            into: &proxy.upstreamResponseTimeoutSeconds
        )
        try limit(
            flags.upstreamIdleTimeout,
            "upstream-idle-timeout",
            into: &proxy.upstreamIdleTimeoutSeconds
        )
        try limit(flags.maxConnections, "max-connections", into: &proxy.maxClientConnections)
        try limit(
            flags.maxConnectionsPerClient,
            "max-connections-per-client",
            into: &proxy.maxConnectionsPerClient
        )
        var eventLoops: Int?
        if let loops = flags.eventLoops, loops != "auto" {
            guard let count = Int(loops), (1...ServeSettings.maximumEventLoops).contains(count) else {
                throw ServeSetupError(
                    "--event-loops: '\(loops)' is not auto or a number from 1 to \(ServeSettings.maximumEventLoops)"
                )
            }
            eventLoops = count
        }
        let syncText = flags.auditFsync ?? "always"
        guard let sync = AuditSync(rawValue: syncText) else {
            throw ServeSetupError("--audit-fsync: '\(syncText)' is not always, interval or never")
        }
        auditSync = sync
        let flowsText = flags.tokenFlows ?? "judge"
        guard let flows = TokenFlowHandling(rawValue: flowsText) else {
            throw ServeSetupError("--token-flows: '\(flowsText)' is not judge or refuse")
        }
        proxy.tokenFlows = flows
        for override in flags.upstreamOverride {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let from = HostPort(parsing: parts[0], defaultPort: 443),
                let to = HostPort(parsing: parts[1])
            else {
                throw ServeSetupError("--upstream-override: '\(override)' is not HOST[:PORT]=ADDR:PORT")
            }
            proxy.upstreamOverrides["\(from.host.lowercased()):\(from.port)"] = to
        }
        proxy.parentProxy = try Self.parentProxy(flags)
        proxy.upstreamCAFiles = flags.upstreamCA
        proxy.allowedConnectPorts.formUnion(flags.allowConnectPort)
        for port in flags.allowHTTPPort {
            guard (1...65535).contains(port) else {
                throw ServeSetupError("--allow-http-port: \(port) is not a TCP port")
            }
            proxy.allowedPlainHTTPPorts.insert(port)
        }
        proxy.extraInterceptedHosts = Set(
            try (flags.interceptHost).map { name in
                guard let host = HostName.canonical(name) else {
                    throw ServeSetupError("--intercept-host: '\(name)' is not a host name")
                }
                return host
            }
        )
        if let restrictionsText = flags.tenantRestrictionsV2 {
            guard let restrictions = TenantRestrictionsV2(parsing: restrictionsText) else {
                throw ServeSetupError(
                    "--tenant-restrictions-v2: '\(restrictionsText)' is not TENANT-ID:POLICY-ID (two GUIDs)"
                )
            }
            proxy.tenantRestrictionsV2 = restrictions
        }

        if let adminText = flags.admin {
            guard let parsed = HostPort(parsing: adminText) else {
                throw ServeSetupError("--admin: '\(adminText)' is not HOST:PORT")
            }
            admin = parsed
        }
        tenantNames.adminTenants = try flags.adminTenant.map { text in try Self.tenant(text, flag: "--admin-tenant") }
        switch (flags.listenTLSCert, flags.listenTLSKey) {
        case (let certificate?, let key?): proxy.listenTLS = (certificate, key)
        case (nil, nil): proxy.listenTLS = nil
        case (_?, nil), (nil, _?): throw ServeSetupError("--listen-tls-cert and --listen-tls-key go together")
        }
        switch (flags.adminTLSCert, flags.adminTLSKey) {
        case (let certificate?, let key?): adminTLS = (certificate, key)
        case (nil, nil): adminTLS = nil
        case (_?, nil), (nil, _?): throw ServeSetupError("--admin-tls-cert and --admin-tls-key go together")
        }
        // Admin calls carry administrators' tokens: in clear only on loopback, unless the operator insists.
        if let admin, adminTLS == nil, !(flags.adminInsecure),
            !(IPAddress(admin.host).map { ClientPolicy.loopbackOnly.permits($0) } ?? (admin.host == "localhost"))
        {
            throw ServeSetupError(
                "--admin \(admin) is beyond loopback without TLS: give --admin-tls-cert and --admin-tls-key, or "
                    + "--admin-insecure to accept plain HTTP"
            )
        }
        let audiences = Set(flags.adminAudience)
        let issuers = Set(flags.adminIssuer)
        let keys = try Self.keys(
            file: flags.adminJWKS,
            url: flags.adminJWKSURL,
            flag: "--admin-jwks"
        )
        if let keys {
            guard !audiences.isEmpty else {
                throw ServeSetupError("--admin-audience is required with admin token keys")
            }
            adminAuth = EntraTokenTrust(
                keys: keys,
                issuers: issuers.isEmpty ? .entraIssuerOfTokenTenant : .oneOf(issuers),
                audiences: audiences
            )
        } else if !audiences.isEmpty || !issuers.isEmpty {
            throw ServeSetupError("--admin-audience and --admin-issuer need --admin-jwks or --admin-jwks-url")
        }
        var console: ConsoleSettings?
        if let clientID = flags.consoleClientID {
            let issuerText = flags.consoleIssuer ?? ConsoleConfiguration.defaultIssuer
            guard let issuer = URL(string: issuerText), issuer.host != nil, EntraHTTP.isAcceptable(issuer) else {
                throw ServeSetupError("--console-issuer: '\(issuerText)' is not an https URL (http only on loopback)")
            }
            guard admin != nil else { throw ServeSetupError("--console-client-id needs --admin HOST:PORT to serve on") }
            var publicURL: URL?
            if let publicText = flags.consolePublicURL {
                guard let url = URL(string: publicText), url.host != nil, EntraHTTP.isAcceptable(url) else {
                    throw ServeSetupError(
                        "--console-public-url: '\(publicText)' is not an https URL (http only on loopback)"
                    )
                }
                publicURL = url
            }
            console = ConsoleSettings(clientID: clientID, issuer: issuer, publicURL: publicURL)
        } else if (flags.consoleIssuer) != nil {
            throw ServeSetupError("--console-issuer needs --console-client-id")
        }
        let creatorKeys = try Self.keys(
            file: flags.creatorJWKS,
            url: flags.creatorJWKSURL,
            flag: "--creator-jwks"
        )
        let creatorAudiences = Set(flags.creatorAudience)
        guard
            let creatorKeySource = try creatorKeys
                ?? Self.keys(file: nil, url: Self.entraCommonKeysURL, flag: "--creator-jwks")
        else { throw ServeSetupError("--creator-jwks-url: Entra's key URL is not a URL") }
        let creatorTrust = EntraTokenTrust(
            keys: creatorKeySource,
            issuers: .entraIssuerOfTokenTenant,
            audiences: creatorAudiences.isEmpty ? [Self.powerPlatformAudience] : creatorAudiences
        )
        self.init(
            proxy: proxy,
            policiesDirectory: flags.policies ?? "policies",
            caCertificatePath: flags.caCert ?? "certs/ca.pem",
            caKeyPath: flags.caKey ?? "certs/ca.key",
            auditLogPath: flags.auditLog ?? "audit.jsonl",
            creatorTrust: creatorTrust,
            admin: admin,
            adminAuth: adminAuth
        )
        if creatorAudiences.isEmpty {
            warnings.append(
                "maker tokens are accepted for Power Platform's own audience (\(Self.powerPlatformAudience)), so each "
                    + "one a connector sends also works against Power Platform: register an application of your own "
                    + "(api://...) for maker tokens and name it with --creator-audience"
            )
        }
        self.console = console
        self.adminTLS = adminTLS
        proxyAutoConfiguration = try Self.proxyAutoConfiguration(flags, proxy: self.proxy)
        self.tenantNames = tenantNames
        self.auditSync = auditSync
        if let eventLoops { self.eventLoops = eventLoops }
        shipping = try flags.shipping.settings(auditLog: auditLogPath)
        if let seconds = flags.policyWatchInterval {
            guard seconds >= 0, seconds <= 86_400, flags.policyStore == nil else {
                throw ServeSetupError(
                    "--policy-watch-interval: give seconds from 0 (no watching) to 86400, for a --policies directory"
                )
            }
            policyWatchInterval = .milliseconds(Int64(seconds * 1000))
        }
        if let store = flags.policyStore {
            // Two places to keep policies would let an admin edit one while the other is enforced.
            guard flags.policies == nil else {
                throw ServeSetupError(
                    "--policies and --policy-store both name where policies live: give one (import a directory with 'tenantgate policies import DIR --policy-store URL')"
                )
            }
            let seconds = flags.policyStoreCheckInterval ?? 10
            // A day at most: a sleep of Int64.max seconds overflows its deadline.
            guard (1...86_400).contains(seconds) else {
                throw ServeSetupError("--policy-store-check-interval: give a number of seconds from 1 to 86400")
            }
            self.policyStore = PolicyStoreSettings(
                url: store,
                checkInterval: .seconds(seconds),
                trustedCAFile: flags.policyStoreCA,
                allowInsecure: flags.policyStoreInsecure
            )
        }
    }

    /// `--X-jwks FILE` or `--X-jwks-url URL`, not both; nil when neither is given.
    private static func keys(file path: String?, url text: String?, flag: String) throws -> JWKSSource? {
        switch (path, text) {
        case (let path?, nil):
            do {
                return try JWKSSource.load(file: path)
            } catch {
                throw ServeSetupError("\(flag): \(error)")
            }
        case (nil, let text?):
            guard let url = URL(string: text), url.scheme != nil else {
                throw ServeSetupError("\(flag)-url: '\(text)' is not a URL")
            }
            return .url(url)
        case (nil, nil):
            return nil
        case (_?, _?):
            throw ServeSetupError("give \(flag) or \(flag)-url, not both")
        }
    }

    /// A tenant as a flag names it: a GUID or a verified domain (SPEC 1), resolved once the policies are loaded.
    private static func tenant(_ text: String, flag: String) throws -> TenantReference {
        guard let reference = TenantReference(parsing: text), reference != .any else {
            throw ServeSetupError("\(flag): '\(text)' is not a tenant ID (GUID) or a domain")
        }
        return reference
    }

    /// `--parent-proxy` with its bypass list and the credentials read from their file, which must be the
    /// operator's alone (as the CA key).
    private static func parentProxy(_ flags: ServeCommand) throws -> ParentProxy? {
        guard let url = flags.parentProxy else {
            guard flags.parentProxyCredentials == nil, flags.parentProxyBypass.isEmpty, flags.parentProxyConnect == nil
            else {
                throw ServeSetupError(
                    "--parent-proxy-credentials, --parent-proxy-bypass and --parent-proxy-connect need --parent-proxy"
                )
            }
            return nil
        }
        let bypass = try flags.parentProxyBypass.map { text in
            guard let entry = ParentProxy.Bypass(parsing: text) else {
                throw ServeSetupError("--parent-proxy-bypass: '\(text)' is not a host name, .suffix, *.suffix or CIDR")
            }
            return entry
        }
        let credentials = try flags.parentProxyCredentials.map { path throws(ServeSetupError) in
            try SecretFile.read(path, flag: "--parent-proxy-credentials")
        }
        let connectText = flags.parentProxyConnect ?? "address"
        guard let tunnelTarget = ParentProxy.TunnelTarget(rawValue: connectText) else {
            throw ServeSetupError("--parent-proxy-connect: '\(connectText)' is not address or name")
        }
        do {
            return try ParentProxy(url: url, credentials: credentials, bypass: bypass, tunnelTarget: tunnelTarget)
        } catch {
            throw ServeSetupError("--parent-proxy: \(error)")
        }
    }

    private static func ranges(_ texts: [String], flag: String) throws -> [AddressRange] {
        try texts.map { text in
            guard let range = AddressRange(cidr: text) else {
                throw ServeSetupError("\(flag): '\(text)' is not a CIDR range or IP address")
            }
            return range
        }
    }

    /// The PAC file's directives: the proxy listener as clients reach it, and the network's own proxy, each a host
    /// name or address (they end up in JavaScript, so nothing else is taken) and a port.
    static func proxyAutoConfiguration(
        _ flags: ServeCommand,
        proxy: ProxyConfiguration
    ) throws(ServeSetupError) -> ProxyAutoConfiguration? {
        func address(_ text: String, flag: String) throws(ServeSetupError) -> HostPort {
            guard let parsed = HostPort(parsing: text),
                HostName.canonical(parsed.host) != nil || IPAddress(parsed.host) != nil
            else { throw ServeSetupError("\(flag): '\(text)' is not HOST:PORT (a host name or address, and a port)") }
            return parsed
        }
        let fallback = try flags.pacFallbackProxy.map { text throws(ServeSetupError) in
            try address(text, flag: "--pac-fallback-proxy")
        }
        let listener: HostPort
        if let text = flags.pacProxy {
            listener = try address(text, flag: "--pac-proxy")
        } else if proxy.listen.port == 0 || IPAddress(proxy.listen.host)?.isUnspecified == true {
            // Every address, or a port chosen at start: nothing a client can be told.
            return nil
        } else {
            listener = proxy.listen
        }
        return ProxyAutoConfiguration(
            proxyAddress: listener.description,
            speaksTLS: proxy.listenTLS != nil,
            fallback: fallback?.description,
            rules: proxy.interception
        )
    }
}
