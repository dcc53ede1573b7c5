import AdminAPI
import Audit
import EntraAuth
import ExchangePolicy
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdTesting
import Logging
import PolicyFiles
import PolicyService
import TenantPolicy
import TestSupport
import Testing

/// The policy endpoints behind the real router, on a policies directory of the test's own, with the audit lines in
/// memory. Calls carry a console session (cookie and CSRF token) of a Global Administrator of `tenant`, so no
/// signing keys are needed.
struct PolicyAPIHarness {
    static let csrfToken = "csrf-token-of-the-test-session"
    let directory: String
    let audit: MemorySink
    let client: any TestClientProtocol
    let tenant: TenantID

    /// Contoso in the project's YAML, Adatum in Power Platform's JSON, Northwind's cross-tenant access settings in
    /// Graph's JSON, and names with a slash and a quote, which JSON writers escape differently.
    static let files = [
        "contoso.yaml": """
        tenantId: \(ExampleTenants.contoso)
        displayName: Contoso
        domains: [contoso.onmicrosoft.com]
        isolation:
          enabled: true
          rules:
            - {tenant: "*", direction: inbound}
            - {tenant: fabrikam.onmicrosoft.com, direction: both}
            - {tenant: \(ExampleTenants.adatum), direction: outbound}

        """,
        "adatum.json": """
        {"properties": {"tenantId": "\(ExampleTenants.adatum)", "isDisabled": false, "allowedTenants": []}}

        """,
        "northwind.json": """
        {
          "tenantId": "\(ExampleTenants.northwind)",
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy",
          "displayName": "CrossTenantAccessPolicy",
          "allowedCloudEndpoints": [],
          "default": {"isServiceDefault": true},
          "partners": [{"tenantId": "\(ExampleTenants.fabrikam)", "isServiceProvider": true}]
        }

        """,
        "directory.yaml": """
        tenants:
          - tenantId: \(ExampleTenants.fabrikam)
            displayName: "Fabrikam / EU"
            domains: [fabrikam.onmicrosoft.com]
          - tenantId: \(ExampleTenants.adatum)
            displayName: 'Adatum "HQ"'
            domains: [adatum.onmicrosoft.com]
          - tenantId: \(ExampleTenants.northwind)
            displayName: Northwind
            domains: [northwind.onmicrosoft.com]

        """,
    ]

    static func run(
        as tenant: TenantID = ExampleTenants.contoso,
        _ test: @escaping @Sendable (PolicyAPIHarness) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("policy-api-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, contents) in files {
            try contents.write(
                toFile: (directory as NSString).appendingPathComponent(name),
                atomically: true,
                encoding: .utf8
            )
        }
        let contents = try PolicyDirectoryContents.read(directory).get()
        let store = PolicyStore(bundle: try contents.library.outcome.get(), nonEntraSTS: .audit)
        let watcher = PolicyDirectoryWatcher(contents: contents, store: store, logger: Logger(label: "test"))
        let sink = MemorySink()
        let policyAPI = AdminPolicyAPI(
            source: PolicyDirectorySource(watcher: watcher, store: store),
            store: store,
            audit: AuditLog(sink: sink),
            authenticator: nil
        )
        let sessions = MemoryPersistDriver()
        let principal = AdminPrincipal(
            tenant: tenant,
            objectID: "00000000-0000-4000-8000-00000000000a",
            displayName: "Ada Admin",
            username: "ada@contoso.onmicrosoft.com",
            roles: [.globalAdministrator],
            applicationID: "00000000-0000-4000-8000-0000000000c0"
        )
        try await sessions.set(
            key: "console-session.test",
            value: ConsoleSession(principal: principal, csrfToken: csrfToken),
            expires: .seconds(3600)
        )
        let router = AdminRouter.make(
            policies: store,
            renderMetrics: { [] },
            policyAPI: policyAPI,
            sessionStore: sessions,
            secureCookies: false
        )
        try await Application(router: router).test(.router) { client in
            try await test(PolicyAPIHarness(directory: directory, audit: sink, client: client, tenant: tenant))
        }
    }

    static var isolationPath: String {
        "/providers/PowerPlatform.Governance/v1/tenants/\(ExampleTenants.contoso)/tenantIsolationPolicy"
    }

    /// One call as the signed-in administrator; `ifMatch` as a client sends it.
    func call(
        _ method: HTTPRequest.Method,
        _ path: String,
        body: String? = nil,
        ifMatch: String? = nil
    ) async throws -> TestResponse {
        var headers: HTTPFields = [.cookie: "\(AdminRouter.sessionCookieName)=test", .consoleCSRFToken: Self.csrfToken]
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await client.execute(
            uri: path,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
    }

    func file(_ name: String) throws -> String {
        try String(contentsOfFile: (directory as NSString).appendingPathComponent(name), encoding: .utf8)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The JSON object of the body, for reading the fields a test cannot fix (a time, a generated ID).
    var object: [String: Any] {
        get throws {
            try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        }
    }
}

extension HTTPField.Name {
    static let consoleCSRFToken = HTTPField.Name("X-CSRF-Token")!
}
