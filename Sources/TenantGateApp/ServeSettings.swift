import Audit
import EntraAuth
import ExchangePolicy
import Foundation
import NIOCore
import NetworkPolicy
import ProxyServer
import Shipping
import TenantPolicy

/// Defaults, then the YAML file, then flags, merged once into typed settings (STYLE 6).
package struct ServeSettings: Sendable {
    package var proxy: ProxyConfiguration
    package var admin: HostPort?
    package var policiesDirectory: String
    package var caCertificatePath: String
    package var caKeyPath: String
    package var auditLogPath: String
    /// PEM certificate and key for an HTTPS admin listener.
    package var adminTLS: (certificate: String, key: String)?
    /// How admin API callers are verified; nil leaves the policy endpoints refusing every call.
    package var adminAuth: EntraTokenTrust?
    /// `--admin-tenant`: whose administrators may use the API and console; nil: the governed tenants'.
    package var adminTenants: Set<TenantID>?
    /// The creator and admin tenants as the flags wrote them, domains among them; resolved at start
    /// (`resolvingTenantNames`) into `proxy` and `adminTenants`.
    package var tenantNames = TenantNames()
    /// How makers' tokens in `Proxy-Authorization` are verified (SPEC 4.1).
    package var creatorTrust: EntraTokenTrust
    /// How often the policies directory is looked at for edits.
    package var policyWatchInterval: Duration = .seconds(1)
    /// `/proxy.pac` on the admin listener; nil when no address to put in it is known (a wildcard `--listen` without
    /// `--pac-proxy`).
    package var proxyAutoConfiguration: ProxyAutoConfiguration?
    /// `--event-loops`: the threads serving connections. One fewer than the cores by default: a loop that always has
    /// work never sleeps, while loops that share the load each sleep and wake for nearly every request. On the
    /// shared bench's 2 cores, with the load generator and the mock STS beside the proxy, one loop served ka16 at
    /// 76 µs of CPU an exchange and two at 113 (45,301 context switches in 5 s against 965).
    package var eventLoops = max(1, System.coreCount - 1)
    package static let maximumEventLoops = 256
    /// When audit lines are synced to disk (SPEC 4.1 `--audit-fsync`).
    package var auditSync: AuditSync = .always
    /// The admin console's sign-in (`--console-client-id`, `--console-issuer`); nil serves no console.
    package var console: ConsoleSettings?
    /// `--policy-store`: the policies in PostgreSQL instead of `policiesDirectory`.
    package var policyStore: PolicyStoreSettings?
    /// `--ship`: the audit file's sinks and where their positions live; nil ships nothing.
    package var shipping: (settings: Shipper.Settings, destinations: [ShipDestination])? = nil
    /// What the operator should hear at start about the settings chosen (a risky default left in place).
    package var warnings: [String] = []

    /// Entra's keys for tokens of every tenant of the global cloud.
    package static let entraCommonKeysURL = "https://login.microsoftonline.com/common/discovery/v2.0/keys"
    /// The audience of the tokens Power Platform makers hold.
    package static let powerPlatformAudience = "https://service.powerapps.com/"

    /// Settings given whole, as the end-to-end tests and `simulate` give them.
    package init(
        proxy: ProxyConfiguration,
        policiesDirectory: String,
        caCertificatePath: String,
        caKeyPath: String,
        auditLogPath: String,
        creatorTrust: EntraTokenTrust,
        admin: HostPort? = nil,
        adminAuth: EntraTokenTrust? = nil,
        policyWatchInterval: Duration = .seconds(1)
    ) {
        self.proxy = proxy
        self.policiesDirectory = policiesDirectory
        self.caCertificatePath = caCertificatePath
        self.caKeyPath = caKeyPath
        self.auditLogPath = auditLogPath
        self.creatorTrust = creatorTrust
        self.admin = admin
        self.adminAuth = adminAuth
        self.policyWatchInterval = policyWatchInterval
        if let admin { self.proxy.otherListeners = [admin] }
    }
}

/// A fleet's shared policy store.
package struct PolicyStoreSettings: Sendable {
    /// The `postgres://` URL as given (it may hold a password: never log it; `PolicyStoreURL` redacts).
    package var url: String
    /// How often every document is compared with the store, repairing a lost notification.
    package var checkInterval: Duration
    /// `--policy-store-ca`: the CA of the server's certificate, instead of the system's roots.
    package var trustedCAFile: String?
    /// `--policy-store-insecure`: a mode that checks nobody is accepted beyond loopback.
    package var allowInsecure: Bool

    package init(
        url: String,
        checkInterval: Duration = .seconds(10),
        trustedCAFile: String? = nil,
        allowInsecure: Bool = false
    ) {
        self.url = url
        self.checkInterval = checkInterval
        self.trustedCAFile = trustedCAFile
        self.allowInsecure = allowInsecure
    }
}

/// The console's Entra application and the issuer it signs in with.
package struct ConsoleSettings: Sendable {
    package var clientID: String
    package var issuer: URL
    /// `--console-public-url`: where administrators reach the console, for the sign-in's `redirect_uri`.
    package var publicURL: URL?

    package init(clientID: String, issuer: URL, publicURL: URL? = nil) {
        self.clientID = clientID
        self.issuer = issuer
        self.publicURL = publicURL
    }
}
