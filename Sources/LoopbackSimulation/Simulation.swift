import Foundation
import MockSTS
import ProxyServer
import TenantPolicy

/// The seed's scenarios played through the real proxy: the three tables of seed 000, a guest in its host tenant,
/// the Azure DevOps bypass, and requests on resource hosts (`simulate`).
package struct Simulation {
    package struct Scenario {
        package let name: String
        package let policies: String
        package let creator: (String, TenantID)
        package let signIn: (String, TenantID)
        package let expectAllowed: Bool
        package let expectedAudit: String
        package var host = "login.microsoftonline.com"
        package var extraForm = ""
        /// A request on a resource host instead of a token exchange.
        package var resource: ResourceRequest?
    }

    /// A GET on a resource host (`--resource-host`) with a bearer token: a Graph token of a tenant, minted outside
    /// the proxy, or an Azure DevOps token, which names no tenant.
    package struct ResourceRequest {
        package enum Bearer {
            case graph(TenantID)
            case azureDevOps
        }

        package let url: String
        package let bearer: Bearer
        /// The request goes on a connection opened under these policies (and used once there, allowed), which stays
        /// open while the scenario's policies come into force.
        package var opensUnder: String?
    }

    /// The resource hosts the simulation judges.
    package static let resourceHosts: Set<HostPattern> = [.exact("graph.microsoft.com"), .exact("dev.azure.com")]

    package struct Row {
        package let scenario: Scenario
        package let status: Int
        package let auditDecision: String
        package var passed: Bool {
            (scenario.expectAllowed ? status == 200 : status == 403) && auditDecision == scenario.expectedAudit
        }
    }

    package static let contoso = ("Contoso", TenantID(high: 0xbb1b_10fb_a1ff_4ca4, low: 0xb979_03fc_f4af_49a0))
    package static let fabrikam = ("Fabrikam", TenantID(high: 0x0da5_9725_89fe_4a2f, low: 0xbf22_fd45_36c9_baac))

    package let policiesDirectory: String

    package init(policiesDirectory: String) {
        self.policiesDirectory = policiesDirectory
    }

    package var scenarios: [Scenario] {
        let tables: [(String, String, [Bool])] = [
            ("two-way isolation", "seed-two-way", [true, false, false, true]),
            ("outbound allowlist", "seed-outbound-allowlist", [true, true, false, true]),
            ("bidirectional allowlist", "seed-bidirectional-allowlist", [true, true, true, true]),
        ]
        var result: [Scenario] = []
        for (name, folder, expected) in tables {
            let pairs = [
                (Self.contoso, Self.contoso), (Self.contoso, Self.fabrikam), (Self.fabrikam, Self.contoso),
                (Self.fabrikam, Self.fabrikam),
            ]
            for ((creator, signIn), allowed) in zip(pairs, expected) {
                result.append(
                    Scenario(
                        name: name,
                        policies: "\(policiesDirectory)/\(folder)",
                        creator: creator,
                        signIn: signIn,
                        expectAllowed: allowed,
                        expectedAudit: allowed ? "allowed" : "blocked"
                    )
                )
            }
        }
        result.append(
            Scenario(
                name: "guest in its host tenant",
                policies: "\(policiesDirectory)/seed-two-way",
                creator: Self.contoso,
                signIn: Self.contoso,
                expectAllowed: true,
                expectedAudit: "allowed",
                extraForm: "&mock_home_tenant=\(Self.fabrikam.1)"
            )
        )
        result.append(
            Scenario(
                name: "Azure DevOps bypass",
                policies: "\(policiesDirectory)/seed-two-way",
                creator: Self.contoso,
                signIn: ("(ADO STS)", Self.fabrikam.1),
                expectAllowed: true,
                expectedAudit: "unenforced",
                host: "app.vssps.visualstudio.com"
            )
        )
        return result + resourceScenarios
    }

    /// A Graph token minted outside the proxy, judged when it is used, and judged again after a policy change;
    /// Azure DevOps organisations, whose requests follow the tenant the directory maps them to.
    private var resourceScenarios: [Scenario] {
        let graph = "https://graph.microsoft.com/v1.0/me"
        func scenario(
            _ name: String,
            _ folder: String,
            _ signIn: (String, TenantID),
            allowed: Bool,
            _ request: ResourceRequest
        ) -> Scenario {
            var scenario = Scenario(
                name: name,
                policies: folder,
                creator: Self.contoso,
                signIn: signIn,
                expectAllowed: allowed,
                expectedAudit: allowed ? "allowed" : "blocked"
            )
            scenario.resource = request
            return scenario
        }
        let mapped = "\(policiesDirectory)/\(Self.mappedFolder)"
        let fabrikamToken = ResourceRequest(url: graph, bearer: .graph(Self.fabrikam.1))
        return [
            scenario(
                "token minted elsewhere",
                "\(policiesDirectory)/seed-outbound-allowlist",
                Self.fabrikam,
                allowed: true,
                fabrikamToken
            ),
            scenario(
                "...after a policy change",
                "\(policiesDirectory)/seed-two-way",
                Self.fabrikam,
                allowed: false,
                fabrikamToken
            ),
            scenario(
                "...on an open connection",
                "\(policiesDirectory)/seed-two-way",
                Self.fabrikam,
                allowed: false,
                ResourceRequest(
                    url: graph,
                    bearer: .graph(Self.fabrikam.1),
                    opensUnder: "\(policiesDirectory)/seed-outbound-allowlist"
                )
            ),
            scenario(
                "ADO organisation mapped",
                mapped,
                ("fabrikamorg", Self.fabrikam.1),
                allowed: false,
                ResourceRequest(url: "https://dev.azure.com/fabrikamorg/_apis/projects", bearer: .azureDevOps)
            ),
            scenario(
                "ADO organisation mapped",
                mapped,
                ("contosoorg", Self.contoso.1),
                allowed: true,
                ResourceRequest(url: "https://dev.azure.com/contosoorg/_apis/projects", bearer: .azureDevOps)
            ),
            scenario(
                "ADO organisation unmapped",
                mapped,
                ("otherorg", Self.fabrikam.1),
                allowed: false,
                ResourceRequest(url: "https://dev.azure.com/otherorg/_apis/projects", bearer: .azureDevOps)
            ),
        ]
    }

    /// Seed 000's two-way isolation, with the directory mapping two Azure DevOps organisations to their tenants.
    static let mappedFolder = "seed-two-way+azure-devops"

    package func run() async throws -> [Row] {
        let harness = try await LoopbackHarness(policiesDirectory: "\(policiesDirectory)/seed-two-way") {
            $0.resourceHosts = Self.resourceHosts
        }
        var rows: [Row] = []
        do {
            for scenario in scenarios {
                try harness.usePolicies(scenario.policies)
                let before = harness.auditLines().count
                if let resource = scenario.resource, let opensUnder = resource.opensUnder {
                    let status = try await heldConnectionRequests(resource, opensUnder: opensUnder, scenario, harness)
                    let lines = harness.auditLines()
                    let decision = lines.count > before ? Self.decision(in: lines[lines.count - 1]) : "(none)"
                    rows.append(Row(scenario: scenario, status: status, auditDecision: decision))
                    continue
                }
                if let resource = scenario.resource {
                    let response = try await harness.resourceRequest(
                        creator: scenario.creator.1,
                        url: resource.url,
                        bearer: try await bearer(resource.bearer, sts: harness.sts)
                    )
                    let lines = harness.auditLines()
                    let decision = lines.count > before ? Self.decision(in: lines[lines.count - 1]) : "(none)"
                    rows.append(Row(scenario: scenario, status: response.status, auditDecision: decision))
                    continue
                }
                let path =
                    scenario.host == "app.vssps.visualstudio.com"
                    ? "/oauth2/token" : "/\(scenario.signIn.1)/oauth2/v2.0/token"
                let form =
                    "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=sim-secret"
                    + scenario.extraForm
                let response = try await harness.tokenRequest(
                    creator: scenario.creator.1,
                    host: scenario.host,
                    path: path,
                    form: form
                )
                let lines = harness.auditLines()
                let decision = lines.count > before ? Self.decision(in: lines[lines.count - 1]) : "(none)"
                rows.append(Row(scenario: scenario, status: response.status, auditDecision: decision))
            }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
        return rows
    }

    /// The first request under `opensUnder`, which must be allowed, then the policy change, then the same request
    /// on the same connection: its status.
    private func heldConnectionRequests(
        _ resource: ResourceRequest,
        opensUnder: String,
        _ scenario: Scenario,
        _ harness: LoopbackHarness
    ) async throws -> Int {
        try harness.usePolicies(opensUnder)
        guard let url = URL(string: resource.url), let host = url.host else { return 0 }
        let path = url.path + (url.query.map { "?\($0)" } ?? "")
        let bearer = try await bearer(resource.bearer, sts: harness.sts)
        let connection = try await HeldConnection.open(
            proxyPort: harness.proxyPort,
            caPath: harness.caPath,
            host: host,
            makerToken: try await harness.sts.makerToken(tenant: scenario.creator.1),
            group: harness.stsGroup
        )
        do {
            let first = try await connection.get(path, bearer: bearer)
            guard first == 200 else {
                await connection.close()
                return first
            }
            try harness.usePolicies(scenario.policies)
            let second = try await connection.get(path, bearer: bearer)
            await connection.close()
            return second
        } catch {
            await connection.close()
            throw error
        }
    }

    /// A Graph token as Microsoft's APIs get it (v1 issuer), minted by the mock as if somewhere else; or an Azure
    /// DevOps token, opaque.
    private func bearer(_ bearer: ResourceRequest.Bearer, sts: MockSTS) async throws -> String {
        switch bearer {
        case .azureDevOps:
            return "ado-opaque-token-simulated"
        case .graph(let tenant):
            return try await sts.graphToken(tenant: tenant)
        }
    }

    package static func decision(in line: String) -> String {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            return "(unreadable)"
        }
        return object["decision"] as? String ?? "(none)"
    }

    package static func table(_ rows: [Row]) -> String {
        var lines = [
            "scenario                  creator    sign-in      expected        observed        audit       result"
        ]
        for row in rows {
            let expected = row.scenario.expectAllowed ? "allowed" : "blocked"
            let observed =
                row.status == 200 ? "allowed (200)" : row.status == 403 ? "blocked (403)" : "HTTP \(row.status)"
            lines.append(
                [
                    pad(row.scenario.name, 25), pad(row.scenario.creator.0, 10), pad(row.scenario.signIn.0, 12),
                    pad(expected, 15), pad(observed, 15), pad(row.auditDecision, 11), row.passed ? "ok" : "MISMATCH",
                ]
                .joined(separator: " ")
            )
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
