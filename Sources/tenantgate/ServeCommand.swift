import AdminConsole
import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import PolicyDatabase
import PolicyFiles
import ProxyServer
import TenantGateApp
import TenantPolicy

/// `tenantgate serve`: the enforcing proxy (SPEC 4 command line). Prints `listening on HOST:PORT` when ready.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the proxy: intercept token exchanges, decide, audit."
    )

    @Option(
        name: .long,
        help: "YAML configuration file: each key a flag's name without --, a list for a repeated flag; flags win."
    )
    var config: String?

    @Option(name: .long, help: "Address to listen on (default 127.0.0.1:3128).")
    var listen: String?

    @Option(
        name: .customLong("transparent-listen"),
        help: "HOST:PORT for connections the kernel redirects (nft/iptables REDIRECT of port 443; SO_ORIGINAL_DST)."
    )
    var transparentListen: String?

    @Option(
        name: .customLong("listen-tls-cert"),
        help: "PEM certificate (chain): the proxy listener speaks TLS (an HTTPS proxy), with --listen-tls-key."
    )
    var listenTLSCert: String?

    @Option(name: .customLong("listen-tls-key"), help: "PEM private key of --listen-tls-cert.")
    var listenTLSKey: String?

    @Option(name: .long, help: "Admin listener address (health, metrics).")
    var admin: String?

    @Option(name: .long, help: "Policies directory (default: policies).")
    var policies: String?

    @Option(
        name: .customLong("pac-proxy"),
        help: "HOST:PORT clients reach the proxy listener by, for /proxy.pac (default: --listen, unless a wildcard)."
    )
    var pacProxy: String?

    @Option(
        name: .customLong("pac-fallback-proxy"),
        help: "HOST:PORT of the network's own proxy, for what /proxy.pac does not send to TenantGate (default DIRECT)."
    )
    var pacFallbackProxy: String?

    @Option(
        name: .customLong("policy-watch-interval"),
        help: "Seconds between looks at the policies directory for edits (default 1; 0: only SIGHUP and admin writes)."
    )
    var policyWatchInterval: Double?

    @Option(
        name: .customLong("policy-store"),
        help:
            "postgres://USER@HOST[:PORT]/DATABASE[?sslmode=...]: policies in PostgreSQL, shared by a fleet, instead of --policies (the password in PGPASSWORD or the config file, readable by its owner only; never on the command line)."
    )
    var policyStore: String?

    @Option(
        name: .customLong("policy-store-check-interval"),
        help: "Seconds between full checks of the policy store, which repair a lost notification (default 10)."
    )
    var policyStoreCheckInterval: Int64?

    @Option(
        name: .customLong("policy-store-ca"),
        help:
            "PEM CA that signs the policy store's certificate (verify-full, the default), instead of the system's roots."
    )
    var policyStoreCA: String?

    @Flag(
        name: .customLong("policy-store-insecure"),
        help: "Accept sslmode disable, prefer or require beyond loopback (nobody checks who answers for the store)."
    )
    var policyStoreInsecure = false

    @Option(name: .customLong("ca-cert"), help: "CA certificate PEM (created on first run; default certs/ca.pem).")
    var caCert: String?

    @Option(name: .customLong("ca-key"), help: "CA private key PEM, mode 0600 (default certs/ca.key).")
    var caKey: String?

    @Option(name: .customLong("upstream-ca"), help: "Extra root CA PEM trusted for upstream TLS (repeatable).")
    var upstreamCA: [String] = []

    @Option(
        name: .customLong("upstream-override"),
        help: "HOST[:PORT]=ADDR:PORT: where to connect for a host (repeatable)."
    )
    var upstreamOverride: [String] = []

    @OptionGroup var shipping: ShippingOptions

    @Option(
        name: .customLong("parent-proxy"),
        help: "http://HOST:PORT or https://HOST:PORT: the network's proxy every upstream connection goes through."
    )
    var parentProxy: String?

    @Option(
        name: .customLong("parent-proxy-credentials"),
        help: "A file holding USER:PASSWORD for --parent-proxy (Basic; mode 0600), never the command line."
    )
    var parentProxyCredentials: String?

    @Option(
        name: .customLong("parent-proxy-bypass"),
        help: "HOST, .SUFFIX, *.SUFFIX or CIDR reached directly, not through --parent-proxy (repeatable)."
    )
    var parentProxyBypass: [String] = []

    @Option(
        name: .customLong("parent-proxy-connect"),
        help:
            "address or name: what a blind tunnel's CONNECT to --parent-proxy names (default address: the one judged)."
    )
    var parentProxyConnect: String?

    @Option(name: .customLong("audit-log"), help: "Audit log, JSON Lines (default audit.jsonl).")
    var auditLog: String?

    @Option(name: .long, help: "enforce or report-only (default enforce).")
    var mode: String?

    @Option(
        name: .customLong("default-creator-tenant"),
        help: "Creator tenant (ID or verified domain) when a connection names none."
    )
    var defaultCreatorTenant: String?

    @Option(
        name: .customLong("ungranted-makers"),
        help:
            "any or governed: whose verified maker tokens a client granted no creator tenant (no address range, no default) may use (default any)."
    )
    var ungrantedMakers: String?

    @Option(name: .customLong("non-entra-sts"), help: "audit (pass and record) or block (default audit).")
    var nonEntraSTS: String?

    @Option(name: .customLong("allow-connect-port"), help: "A port CONNECT may reach besides 443 (repeatable).")
    var allowConnectPort: [Int] = []

    @Option(name: .customLong("allow-http-port"), help: "A port plain http:// may reach besides 80 (repeatable).")
    var allowHTTPPort: [Int] = []

    @Option(
        name: .customLong("intercept-host"),
        help: "A resource host to intercept besides the STS hosts (repeatable)."
    )
    var interceptHost: [String] = []

    @Option(
        name: .customLong("resource-host"),
        help: "A resource host (or *.suffix) to intercept with every request judged by its bearer token (repeatable)."
    )
    var resourceHost: [String] = []

    @Option(
        name: .customLong("unreadable-resource-token"),
        help: ArgumentHelp(
            "allow or block (default block): a resource request without a readable Entra token, on a host "
                + "directory.yaml maps to no tenant. block refuses it whenever some tenant's isolation could."
        )
    )
    var unreadableResourceToken: String?

    @Option(
        name: .customLong("tenant-restrictions-v2"),
        help: "TENANT:POLICY-ID: inject Tenant Restrictions v2 headers on Microsoft's login hosts (off by default)."
    )
    var tenantRestrictionsV2: String?

    @Option(name: .customLong("admin-jwks"), help: "JWKS file of the keys admin API tokens are signed with.")
    var adminJWKS: String?

    @Option(
        name: .customLong("admin-jwks-url"),
        help: "JWKS URL for admin API tokens, fetched and cached (e.g. Entra's discovery keys)."
    )
    var adminJWKSURL: String?

    @Option(
        name: .customLong("admin-audience"),
        help: "An accepted audience of admin API tokens (repeatable; required with --admin-jwks)."
    )
    var adminAudience: [String] = []

    @Option(
        name: .customLong("admin-issuer"),
        help:
            "An accepted issuer of admin API tokens (repeatable; default: the Entra issuer of the token's own tenant)."
    )
    var adminIssuer: [String] = []

    @Option(
        name: .customLong("creator-jwks"),
        help: "JWKS file of the keys makers' tokens (Proxy-Authorization) are signed with."
    )
    var creatorJWKS: String?

    @Option(
        name: .customLong("creator-jwks-url"),
        help: "JWKS URL for makers' tokens, fetched and cached (default: Entra's \(ServeSettings.entraCommonKeysURL))."
    )
    var creatorJWKSURL: String?

    @Option(
        name: .customLong("creator-audience"),
        help: "An accepted audience of makers' tokens (repeatable; default \(ServeSettings.powerPlatformAudience))."
    )
    var creatorAudience: [String] = []

    @Option(
        name: .customLong("creator-by-client-address"),
        help: ArgumentHelp(
            "A client address or CIDR range and the creator tenants (IDs or verified domains) its clients may act for, the first without a maker token (repeatable).",
            valueName: "RANGE=TENANT[,TENANT...]"
        )
    )
    var creatorByClientAddress: [String] = []

    @Option(
        name: .customLong("allow-destination"),
        help:
            "A CIDR range the proxy may connect to although it is refused by default (loopback, link-local, private; repeatable)."
    )
    var allowDestination: [String] = []

    @Option(
        name: .customLong("entra-range"),
        help:
            "A CIDR range of Entra's token service beyond the addresses its names resolve to (repeatable): a CONNECT there must name an intercepted host in its TLS hello."
    )
    var entraRange: [String] = []

    @Option(
        name: .customLong("allow-client"),
        help: "A CIDR range of clients that may use the proxy (repeatable; default loopback only)."
    )
    var allowClient: [String] = []

    @Option(
        name: .customLong("proxy-protocol-from"),
        help: "A CIDR range of load balancers whose connections begin with a PROXY protocol header (repeatable)."
    )
    var proxyProtocolFrom: [String] = []

    @Option(
        name: .customLong("token-flows"),
        help:
            "judge or refuse tokens an STS hands over outside its token endpoint (form_post, fragments; default judge)."
    )
    var tokenFlows: String?

    @Option(
        name: .customLong("request-head-timeout"),
        help: "Seconds a request head may take once its first byte arrived (default 30; then 408)."
    )
    var requestHeadTimeout: Int64?

    @Option(name: .customLong("tls-handshake-timeout"), help: "Seconds a client's TLS handshake may take (default 10).")
    var tlsHandshakeTimeout: Int64?

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a client connection may wait between requests (default 120)."
    )
    var idleTimeout: Int64?

    @Option(
        name: .customLong("tunnel-idle-timeout"),
        help: "Seconds a blind tunnel may carry nothing either way (default 3600)."
    )
    var tunnelIdleTimeout: Int64?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to connect upstream (default 10; then 504).")
    var connectTimeout: Int64?

    @Option(
        name: .customLong("upstream-response-timeout"),
        help: "Seconds for the upstream answer (default 30; then 504)."
    )
    var upstreamResponseTimeout: Int64?

    @Option(
        name: .customLong("upstream-idle-timeout"),
        help: "Seconds a pooled upstream connection is kept unused (default 60)."
    )
    var upstreamIdleTimeout: Int64?

    @Option(
        name: .customLong("max-connections"),
        help: "Client connections served at once (default 10000; beyond: 503)."
    )
    var maxConnections: Int?

    @Option(
        name: .customLong("max-connections-per-client"),
        help: "Client connections one address may hold at once (default 1000; beyond: 503)."
    )
    var maxConnectionsPerClient: Int?

    @Option(
        name: .customLong("event-loops"),
        help: "Threads serving connections: a number, or auto (default: one fewer than the cores, at least one)."
    )
    var eventLoops: String?

    @Option(
        name: .customLong("audit-fsync"),
        help:
            "always (one fsync per group of lines, answers after it), interval (at most once a second) or never (default always)."
    )
    var auditFsync: String?

    @Option(
        name: .customLong("console-public-url"),
        help: "Where administrators reach the console (https://...): the sign-in's redirect URI is built from it."
    )
    var consolePublicURL: String?

    @Option(
        name: .customLong("admin-tenant"),
        help:
            "A tenant (ID or verified domain) whose administrators may use the admin API and console (repeatable; default: the governed tenants)."
    )
    var adminTenant: [String] = []

    @Option(name: .customLong("admin-tls-cert"), help: "PEM certificate (chain) for an HTTPS admin listener.")
    var adminTLSCert: String?

    @Option(name: .customLong("admin-tls-key"), help: "PEM private key of --admin-tls-cert.")
    var adminTLSKey: String?

    @Flag(name: .customLong("admin-insecure"), help: "Allow a plain-HTTP admin listener beyond loopback.")
    var adminInsecure = false

    @Option(
        name: .customLong("console-client-id"),
        help: "Serve the admin console on the admin listener, signing administrators in with this Entra client ID."
    )
    var consoleClientID: String?

    @Option(
        name: .customLong("console-issuer"),
        help: "The console's OpenID Connect issuer (default: \(ConsoleConfiguration.defaultIssuer))."
    )
    var consoleIssuer: String?

    func run() async throws {
        let settings: ServeSettings
        do {
            // What the command line carries is in every user's process list: no password there. The file may hold one.
            if let fromCommandLine = policyStore { try PolicyStoreURL.refusePasswordOnCommandLine(fromCommandLine) }
            settings = try ServeSettings(flags: try withConfiguration())
        } catch {
            printError("tenantgate serve: \(error)")
            throw ExitCode.badInput
        }
        try await ProxyRunner(settings: settings).run()
    }

    /// A store password in a file its group or other users may read is as exposed as one on the command line: refused,
    /// as libpq ignores a `.pgpass` with group or world access.
    static func refuseExposedPassword(_ policyStore: String?, in file: String) throws {
        guard let policyStore, URLComponents(string: policyStore)?.password?.isEmpty == false else { return }
        let mode = (try? FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int) ?? 0o777
        guard mode & 0o077 != 0 else { return }
        throw ServeSetupError(
            "\(file): holds the policy store's password and its group or other users may read it (mode "
                + "\(String(mode, radix: 8))): make it readable by its owner only (chmod 600), or give the password in "
                + "PGPASSWORD"
        )
    }

    /// These arguments with the `--config` file's before them, parsed again as one command line.
    private func withConfiguration() throws -> ServeCommand {
        guard let config else { return self }
        let fromFile = try ConfigurationArguments.arguments(fromFile: config, for: Self.self)
        let fileSettings: ServeCommand
        do {
            fileSettings = try Self.parse(fromFile)
        } catch {
            throw ServeSetupError("\(config): \(Self.message(for: error))")
        }
        try Self.refuseExposedPassword(fileSettings.policyStore, in: config)
        // `tenantgate serve ARGUMENTS`: the command line's own arguments come after the file's, and win.
        let commandLine = Array(
            CommandLine.arguments.dropFirst().drop { $0 != Self.configuration.commandName }.dropFirst()
        )
        return try Self.parse(fromFile + commandLine)
    }
}
