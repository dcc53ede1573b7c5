import EntraAuth
import Foundation
import TenantPolicy

/// How long an admin change takes to reach token exchanges: on loopback, a rule is added or deleted
/// through the admin API, and as soon as the call returns an exchange goes through the proxy; the figure is the
/// time from the admin call returning to that exchange's decision (its audit line), and the exchange must be
/// decided under the new policy. Uses a copy of the policies directory, since the API writes to it.
package struct PropagationMeasurement {
    package struct Result {
        /// Milliseconds from each admin call returning to the next exchange's decision.
        package let milliseconds: [Double]
        /// Exchanges decided under the old policy after the call returned (must be 0).
        package let stale: Int
    }

    package static let contoso = NorthwindRuleToggle.contoso

    package let policiesDirectory: String
    package let rounds: Int

    package init(policiesDirectory: String, rounds: Int) {
        self.policiesDirectory = policiesDirectory
        self.rounds = rounds
    }

    package func run() async throws -> Result {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tenantgate-propagation-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in try FileManager.default.contentsOfDirectory(atPath: policiesDirectory)
        where name.hasSuffix(".yaml") || name.hasSuffix(".json") {
            try FileManager.default.copyItem(
                atPath: "\(policiesDirectory)/\(name)",
                toPath: copy.appendingPathComponent(name).path
            )
        }

        let key = SimulationAdminKey()
        let harness = try await LoopbackHarness(
            policiesDirectory: copy.path,
            admin: EntraTokenTrust(
                keys: try .json(key.jwksJSON()),
                issuers: .entraIssuerOfTokenTenant,
                audiences: [SimulationAdminKey.audience]
            )
        )
        do {
            let token = try await key.adminToken(tenant: Self.contoso)
            let result = try await measure(harness, token: token)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    private func measure(_ harness: LoopbackHarness, token: String) async throws -> Result {
        var milliseconds: [Double] = []
        var stale = 0
        for round in 0..<rounds {
            try await NorthwindRuleToggle.change(round: round, adminPort: harness.adminPort ?? 0, token: token)
            let returned = Date()
            let exchange = try await harness.tokenRequest(
                creator: Self.contoso,
                path: NorthwindRuleToggle.exchangePath
            )
            if exchange.status != NorthwindRuleToggle.statusAfter(round: round) { stale += 1 }
            guard let time = NorthwindRuleToggle.lastDecisionTime(harness.auditLines()) else {
                throw Curl.Failure(description: "no audit line for the exchange of round \(round)")
            }
            milliseconds.append(max(0, time.timeIntervalSince(returned) * 1000))
        }
        return Result(milliseconds: milliseconds, stale: stale)
    }
}
