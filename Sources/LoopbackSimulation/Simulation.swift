import Foundation
import TenantPolicy

/// The seed's scenarios played through the real proxy: the three tables of seed 000, a guest in its host tenant,
/// and the Azure DevOps bypass (`simulate`).
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
    }

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
        return result
    }

    package func run() async throws -> [Row] {
        let harness = try await LoopbackHarness(policiesDirectory: "\(policiesDirectory)/seed-two-way")
        var rows: [Row] = []
        do {
            for scenario in scenarios {
                try harness.usePolicies(scenario.policies)
                let before = harness.auditLines().count
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
