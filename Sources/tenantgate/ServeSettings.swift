import AdminAuth
import Foundation
import ProxyServer
import TenantPolicy

/// Defaults, then the YAML file, then flags, merged once into typed settings (STYLE 6).
struct ServeSettings {
    var proxy: ProxyConfiguration
    var admin: HostPort?
    var policiesDirectory: String
    var caCertificatePath: String
    var caKeyPath: String
    var auditLogPath: String
    /// How admin API callers are verified; nil leaves the policy endpoints refusing every call.
    var adminAuth: AdminAuthConfiguration?

    init(flags: ServeCommand, file: ServeConfigurationFile?) throws {
        func pick(_ flag: String?, _ fromFile: String?, _ fallback: String) -> String { flag ?? fromFile ?? fallback }

        let listenText = pick(flags.listen, file?.listen, "127.0.0.1:3128")
        guard let listen = HostPort(parsing: listenText) else { throw ServeSetupError("--listen: '\(listenText)' is not HOST:PORT") }
        var proxy = ProxyConfiguration(listen: listen)

        let modeText = pick(flags.mode, file?.mode, "enforce")
        guard let mode = EnforcementMode(rawValue: modeText) else { throw ServeSetupError("--mode: '\(modeText)' is not enforce or report-only") }
        proxy.mode = mode

        let nonEntraText = pick(flags.nonEntraSTS, file?.nonEntraSTS, "audit")
        guard let nonEntra = NonEntraSTSMode(rawValue: nonEntraText) else { throw ServeSetupError("--non-entra-sts: '\(nonEntraText)' is not audit or block") }
        proxy.nonEntraSTS = nonEntra

        if let creatorText = flags.defaultCreatorTenant ?? file?.defaultCreatorTenant {
            guard let creator = TenantID(creatorText) else { throw ServeSetupError("--default-creator-tenant: '\(creatorText)' is not a tenant ID (GUID)") }
            proxy.defaultCreatorTenant = creator
        }
        for (address, tenantText) in file?.creatorByClientAddress ?? [:] {
            guard let tenant = TenantID(tenantText) else { throw ServeSetupError("creator-by-client-address: '\(tenantText)' is not a tenant ID") }
            proxy.creatorTenantByClientAddress[address] = tenant
        }
        for override in (file?.upstreamOverride ?? []) + flags.upstreamOverride {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let from = HostPort(parsing: parts[0], defaultPort: 443), let to = HostPort(parsing: parts[1]) else {
                throw ServeSetupError("--upstream-override: '\(override)' is not HOST[:PORT]=ADDR:PORT")
            }
            proxy.upstreamOverrides["\(from.host.lowercased()):\(from.port)"] = to
        }
        proxy.upstreamCAFiles = (file?.upstreamCA ?? []) + flags.upstreamCA
        proxy.allowedConnectPorts.formUnion((file?.allowConnectPorts ?? []) + flags.allowConnectPort)
        proxy.extraInterceptedHosts = Set(((file?.interceptHosts ?? []) + flags.interceptHost).map { $0.lowercased() })
        if let restrictionsText = flags.tenantRestrictionsV2 ?? file?.tenantRestrictionsV2 {
            guard let restrictions = TenantRestrictionsV2(parsing: restrictionsText) else {
                throw ServeSetupError("--tenant-restrictions-v2: '\(restrictionsText)' is not TENANT-ID:POLICY-ID (two GUIDs)")
            }
            proxy.tenantRestrictionsV2 = restrictions
        }
        self.proxy = proxy

        if let adminText = flags.admin ?? file?.admin {
            guard let admin = HostPort(parsing: adminText) else { throw ServeSetupError("--admin: '\(adminText)' is not HOST:PORT") }
            self.admin = admin
        }
        let audiences = Set((file?.adminAudience ?? []) + flags.adminAudience)
        let issuers = Set((file?.adminIssuer ?? []) + flags.adminIssuer)
        let keys: JWKSSource?
        switch (flags.adminJWKS ?? file?.adminJWKS, flags.adminJWKSURL ?? file?.adminJWKSURL) {
        case (let path?, nil):
            do {
                keys = try AdminAuthenticator.loadJWKS(file: path)
            } catch {
                throw ServeSetupError("--admin-jwks: \(error)")
            }
        case (nil, let text?):
            guard let url = URL(string: text), url.scheme != nil else { throw ServeSetupError("--admin-jwks-url: '\(text)' is not a URL") }
            keys = .url(url)
        case (nil, nil):
            keys = nil
        case (_?, _?):
            throw ServeSetupError("give --admin-jwks or --admin-jwks-url, not both")
        }
        if let keys {
            guard !audiences.isEmpty else { throw ServeSetupError("--admin-audience is required with admin token keys") }
            adminAuth = AdminAuthConfiguration(
                keys: keys, issuers: issuers.isEmpty ? .entraIssuerOfTokenTenant : .oneOf(issuers), audiences: audiences)
        } else if !audiences.isEmpty || !issuers.isEmpty {
            throw ServeSetupError("--admin-audience and --admin-issuer need --admin-jwks or --admin-jwks-url")
        }
        policiesDirectory = pick(flags.policies, file?.policies, "policies")
        caCertificatePath = pick(flags.caCert, file?.caCert, "certs/ca.pem")
        caKeyPath = pick(flags.caKey, file?.caKey, "certs/ca.key")
        auditLogPath = pick(flags.auditLog, file?.auditLog, "audit.jsonl")
    }
}
