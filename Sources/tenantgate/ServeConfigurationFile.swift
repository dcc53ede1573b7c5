import Foundation
import Yams

/// The `--config FILE` YAML: the same settings as the flags, by the same names (flags override it; SPEC 4).
struct ServeConfigurationFile: Decodable {
    var listen: String?
    var listenTLSCert: String?
    var listenTLSKey: String?
    var admin: String?
    var policies: String?
    var policyStore: String?
    var policyStoreCheckInterval: Int64?
    var policyStoreCA: String?
    var policyStoreInsecure: Bool?
    var caCert: String?
    var caKey: String?
    var upstreamCA: [String]?
    var upstreamOverride: [String]?
    var auditLog: String?
    var mode: String?
    var defaultCreatorTenant: String?
    var nonEntraSTS: String?
    /// Client address or CIDR range → the creator tenant (or tenants) its clients may act for; the first is the
    /// creator of a connection that sends no Proxy-Authorization.
    var creatorByClientAddress: [String: GrantedTenants]?
    var ungrantedMakers: String?
    var creatorJWKS: String?
    var creatorJWKSURL: String?
    var creatorAudience: [String]?
    var allowDestination: [String]?
    var entraRange: [String]?
    var allowClient: [String]?
    var tokenFlows: String?
    var requestHeadTimeout: Int64?
    var tlsHandshakeTimeout: Int64?
    var idleTimeout: Int64?
    var tunnelIdleTimeout: Int64?
    var connectTimeout: Int64?
    var upstreamResponseTimeout: Int64?
    var upstreamIdleTimeout: Int64?
    var maxConnections: Int?
    var maxConnectionsPerClient: Int?
    var adminTenant: [String]?
    var consolePublicURL: String?
    var adminTLSCert: String?
    var adminTLSKey: String?
    var adminInsecure: Bool?
    var auditFsync: String?
    var allowConnectPorts: [Int]?
    var allowHTTPPorts: [Int]?
    var interceptHosts: [String]?
    var tenantRestrictionsV2: String?
    var adminJWKS: String?
    var adminJWKSURL: String?
    var adminAudience: [String]?
    var adminIssuer: [String]?
    var consoleClientID: String?
    var consoleIssuer: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, admin, policies, mode
        case listenTLSCert = "listen-tls-cert"
        case listenTLSKey = "listen-tls-key"
        case policyStore = "policy-store"
        case policyStoreCheckInterval = "policy-store-check-interval"
        case policyStoreCA = "policy-store-ca"
        case policyStoreInsecure = "policy-store-insecure"
        case caCert = "ca-cert"
        case caKey = "ca-key"
        case upstreamCA = "upstream-ca"
        case upstreamOverride = "upstream-override"
        case auditLog = "audit-log"
        case defaultCreatorTenant = "default-creator-tenant"
        case nonEntraSTS = "non-entra-sts"
        case creatorByClientAddress = "creator-by-client-address"
        case ungrantedMakers = "ungranted-makers"
        case allowConnectPorts = "allow-connect-port"
        case allowHTTPPorts = "allow-http-port"
        case interceptHosts = "intercept-host"
        case tenantRestrictionsV2 = "tenant-restrictions-v2"
        case adminJWKS = "admin-jwks"
        case adminJWKSURL = "admin-jwks-url"
        case adminAudience = "admin-audience"
        case adminIssuer = "admin-issuer"
        case creatorJWKS = "creator-jwks"
        case creatorJWKSURL = "creator-jwks-url"
        case creatorAudience = "creator-audience"
        case allowDestination = "allow-destination"
        case entraRange = "entra-range"
        case allowClient = "allow-client"
        case tokenFlows = "token-flows"
        case requestHeadTimeout = "request-head-timeout"
        case tlsHandshakeTimeout = "tls-handshake-timeout"
        case idleTimeout = "idle-timeout"
        case tunnelIdleTimeout = "tunnel-idle-timeout"
        case connectTimeout = "connect-timeout"
        case upstreamResponseTimeout = "upstream-response-timeout"
        case upstreamIdleTimeout = "upstream-idle-timeout"
        case maxConnections = "max-connections"
        case maxConnectionsPerClient = "max-connections-per-client"
        case adminTenant = "admin-tenant"
        case consolePublicURL = "console-public-url"
        case adminTLSCert = "admin-tls-cert"
        case adminTLSKey = "admin-tls-key"
        case adminInsecure = "admin-insecure"
        case auditFsync = "audit-fsync"
        case consoleClientID = "console-client-id"
        case consoleIssuer = "console-issuer"
    }

    static func load(_ path: String) throws -> ServeConfigurationFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8)
        else {
            throw ServeSetupError("cannot read the configuration file \(path)")
        }
        // A misspelt key would otherwise be ignored silently, and its setting left at the default.
        if let mapping = try? Yams.load(yaml: text) as? [String: Any] {
            let known = Set(CodingKeys.allCases.map(\.rawValue))
            let unknown = mapping.keys.filter { !known.contains($0) }.sorted()
            guard unknown.isEmpty else {
                throw ServeSetupError(
                    "\(path): unknown key(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")); keys are the flags' names "
                        + "without '--' (for example listen, policies, audit-log)"
                )
            }
        }
        do {
            return try YAMLDecoder().decode(ServeConfigurationFile.self, from: text)
        } catch {
            throw ServeSetupError("\(path): \(error)")
        }
    }
}

/// A setup problem reported as one readable line before the proxy starts (exit 2).
struct ServeSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One tenant or a list of tenants, as `creator-by-client-address` takes either.
struct GrantedTenants: Decodable {
    let values: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = [one]
        } else {
            values = try container.decode([String].self)
        }
    }
}
