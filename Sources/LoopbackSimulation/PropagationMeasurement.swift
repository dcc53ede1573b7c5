import EntraAuth
import Foundation
import JWTKit
import TenantPolicy

/// How long an admin change takes to reach token exchanges: on loopback, a rule is added or deleted
/// through the admin API, and as soon as the call returns an exchange goes through the proxy; the figure is the
/// time from the admin call returning to that exchange's decision (its audit line), and the exchange must be
/// decided under the new policy. Uses a copy of the policies directory, since the API writes to it.
package struct PropagationMeasurement {
    private struct Claims: JWTPayload {
        var tid: String
        var iss: String
        var aud: String
        var wids: [String]
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    package struct Result {
        /// Milliseconds from each admin call returning to the next exchange's decision.
        package let milliseconds: [Double]
        /// Exchanges decided under the old policy after the call returned (must be 0).
        package let stale: Int
    }

    package static let contoso = Simulation.contoso.1
    package static let northwind = TenantID(high: 0x8ac9_0d1b_d459_4375, low: 0xa421_dd00_05f9_d0d1)
    package static let audience = "api://tenantgate-simulate"

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

        // A signing key made for this run: the admin API trusts only it.
        let key = ES256PrivateKey()
        let signers = JWTKeyCollection()
        await signers.add(ecdsa: key, kid: "simulate")
        guard let parameters = key.parameters else {
            throw Curl.Failure(description: "the signing key has no public parameters")
        }
        let jwks =
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"simulate","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        let harness = try await LoopbackHarness(
            policiesDirectory: copy.path,
            admin: EntraTokenTrust(
                keys: try .json(jwks),
                issuers: .entraIssuerOfTokenTenant,
                audiences: [Self.audience]
            )
        )
        do {
            let token = try await signers.sign(
                Claims(
                    tid: Self.contoso.description,
                    iss: "https://login.microsoftonline.com/\(Self.contoso)/v2.0",
                    aud: Self.audience,
                    wids: ["62e90394-69f5-4237-9190-012177145e10"],
                    exp: Int(Date().timeIntervalSince1970) + 3600
                ),
                kid: "simulate"
            )
            let result = try await measure(harness, token: token)
            await harness.stop()
            return result
        } catch {
            await harness.stop()
            throw error
        }
    }

    private func measure(_ harness: LoopbackHarness, token: String) async throws -> Result {
        let rules =
            "http://127.0.0.1:\(harness.adminPort ?? 0)/providers/PowerPlatform.Governance/v1/tenants/\(Self.contoso)/tenantIsolationPolicy/rules"
        var milliseconds: [Double] = []
        var stale = 0
        for round in 0..<rounds {
            let adding = round % 2 == 0
            let arguments =
                adding
                ? [
                    "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                    #"{"tenant":"\#(Self.northwind)","direction":"outbound"}"#, rules,
                ]
                : ["-X", "DELETE", "\(rules)/\(Self.northwind)"]
            let status = try await Curl.run(
                ["-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)"]
                    + arguments
            )
            guard status == (adding ? "201" : "204") else {
                throw Curl.Failure(description: "the admin API answered \(status) to round \(round)")
            }
            let returned = Date()
            let exchange = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.northwind)/oauth2/v2.0/token"
            )
            if exchange.status != (adding ? 200 : 403) { stale += 1 }
            let line =
                (try? JSONSerialization.jsonObject(with: Data((harness.auditLines().last ?? "").utf8)))
                as? [String: Any]
            let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
            guard line?["decision"] != nil, let time = (line?["time"] as? String).flatMap({ try? parser.parse($0) })
            else {
                throw Curl.Failure(description: "no audit line for the exchange of round \(round)")
            }
            milliseconds.append(max(0, time.timeIntervalSince(returned) * 1000))
        }
        return Result(milliseconds: milliseconds, stale: stale)
    }
}
