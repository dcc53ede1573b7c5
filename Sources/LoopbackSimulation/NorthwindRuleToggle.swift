import Foundation
import TenantPolicy

/// The change the propagation measurements make, round after round: an even round allows Northwind outbound from
/// Contoso through the admin API, an odd one deletes that rule. An exchange created in Contoso signing in to
/// Northwind is allowed (200) after an even round and blocked (403) after an odd one, so each exchange says which
/// policy decided it.
enum NorthwindRuleToggle {
    static let contoso = Simulation.contoso.1
    static let northwind = TenantID(high: 0x8ac9_0d1b_d459_4375, low: 0xa421_dd00_05f9_d0d1)
    static let exchangePath = "/\(northwind)/oauth2/v2.0/token"

    /// The exchange's status under the policy round `round` put in force.
    static func statusAfter(round: Int) -> Int { round % 2 == 0 ? 200 : 403 }

    /// Deletes the rule if an earlier, interrupted run left it: round 0 then adds it anew.
    static func reset(adminPort: Int, token: String) async throws {
        let status = try await Curl.run([
            "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
            "-X", "DELETE", "\(rulesURL(adminPort: adminPort))/\(northwind)",
        ])
        guard status == "204" || status == "404" else {
            throw Curl.Failure(description: "the admin API on port \(adminPort) answered \(status) to the reset")
        }
    }

    private static func rulesURL(adminPort: Int) -> String {
        "http://127.0.0.1:\(adminPort)/providers/PowerPlatform.Governance/v1/tenants/\(contoso)/tenantIsolationPolicy/rules"
    }

    /// Makes round `round`'s change through the admin API on `adminPort`; throws unless it is answered as done.
    static func change(round: Int, adminPort: Int, token: String) async throws {
        let rules = rulesURL(adminPort: adminPort)
        let adding = round % 2 == 0
        let arguments =
            adding
            ? [
                "-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                #"{"tenant":"\#(northwind)","direction":"outbound"}"#, rules,
            ]
            : ["-X", "DELETE", "\(rules)/\(northwind)"]
        let status = try await Curl.run(
            ["-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)"]
                + arguments
        )
        guard status == (adding ? "201" : "204") else {
            throw Curl.Failure(description: "the admin API on port \(adminPort) answered \(status) to round \(round)")
        }
    }

    /// The time of the last decision among audit lines (the exchange just answered), to the millisecond.
    static func lastDecisionTime(_ lines: [String]) -> Date? {
        let parser = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for line in lines.reversed() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["decision"] != nil
            else { continue }
            return (object["time"] as? String).flatMap { try? parser.parse($0) }
        }
        return nil
    }
}
