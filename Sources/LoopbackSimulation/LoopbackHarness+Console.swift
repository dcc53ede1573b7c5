import Foundation
import MockSTS
import TenantPolicy

extension LoopbackHarness {
    /// Everything a person or a browser test needs to use `console` mode, as JSON: addresses, files, and tokens
    /// minted by the mock (makers' for the proxy, administrators' for the API).
    package func consoleInformation() async throws -> [String: Any] {
        var makers: [String: String] = [:]
        for (name, tenant) in [("contoso", MockConsoleUser.examples[0].tenant)] + Self.exampleTenants {
            makers[name] = try await sts.makerToken(tenant: tenant)
        }
        var admins: [String: String] = [:]
        for user in MockConsoleUser.examples {
            admins[user.key] = try await sts.adminToken(for: user, audience: Self.adminAudience)
        }
        return [
            "console": "http://127.0.0.1:\(adminPort ?? 0)/console",
            "admin_port": adminPort ?? 0,
            "proxy_port": proxyPort,
            "ca": caPath,
            "audit_log": auditPath,
            "policies": policiesDirectory,
            "maker_tokens": makers,
            "admin_tokens": admins,
            "users": MockConsoleUser.examples.map {
                ["key": $0.key, "name": $0.name, "role": $0.roleDescription, "tenant": $0.tenant.description]
            },
        ]
    }

    /// The example policies' other tenants, for makers' tokens.
    static let exampleTenants: [(String, TenantID)] = [
        "fabrikam": "0da59725-89fe-4a2f-bf22-fd4536c9baac", "northwind": "8ac90d1b-d459-4375-a421-dd0005f9d0d1",
        "adatum": "4760d329-4de4-4d52-bfed-ecc7ef0af950",
    ].compactMap { name, id in TenantID(id).map { (name, $0) } }.sorted { $0.0 < $1.0 }
}
