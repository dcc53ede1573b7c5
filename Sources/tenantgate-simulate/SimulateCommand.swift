import ArgumentParser
import Foundation
import LoopbackSimulation
import UnixSignals

/// `tenantgate-simulate`: the whole system on loopback, playing the seed's scenarios; exits 1 on any mismatch.
///
/// A development and demonstration tool, not the product: it carries a mock identity provider, which the shipped
/// `tenantgate` binary does not link.
@main
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantgate-simulate",
        abstract: "Run a mock Entra STS, the proxy and curl on loopback, and play the seed's scenarios."
    )

    @Option(name: .long, help: "Policies directory holding the seed-* scenario folders.")
    var policies = "policies"

    @Option(name: .long, help: "Also measure admin-change propagation over this many policy changes (0: off).")
    var propagation = 0

    @Option(
        name: .long,
        help: "With --propagation and --policy-store: measure across this many `serve` instances sharing the store."
    )
    var fleet = 0

    @Option(
        name: .customLong("policy-store"),
        help: "With --fleet: the PostgreSQL policy store the instances share (holding the example policies)."
    )
    var policyStore: String?

    @Flag(
        name: .long,
        help: "Keep running with the admin console and the mock's sign-in page, on a copy of the policies, until ^C."
    )
    var console = false

    @Option(name: .customLong("admin-port"), help: "With --console: the admin listener's port on 127.0.0.1.")
    var adminPort = 8081

    @Option(name: .customLong("proxy-port"), help: "With --console: the proxy's port on 127.0.0.1.")
    var proxyPort = 3128

    @Option(name: .customLong("info-file"), help: "With --console: also write the addresses and tokens as JSON here.")
    var infoFile: String?

    @Flag(
        name: .customLong("data-plane"),
        help: """
            With --fleet: the instances judge graph.microsoft.com, and each change is timed to the first Graph \
            request refused or allowed on connections opened before it and kept open.
            """
    )
    var dataPlane = false

    @Option(
        name: .customLong("serve-binary"),
        help: "With --fleet: the tenantgate binary whose `serve` the instances run (default: the one beside this one)."
    )
    var serveBinary: String?

    @Option(
        name: .customLong("policy-scale"),
        help: """
            Measure a large policy set (a directory as scripts/policy-scale generates): startup, memory, decisions/s \
            and --propagation changes through each path (with --policy-store and --fleet N: across N instances).
            """
    )
    var policyScale: String?

    func validate() throws {
        if policyScale != nil {
            guard propagation > 0 else { throw ValidationError("--policy-scale needs --propagation N") }
            return
        }
        if fleet > 0 {
            guard propagation > 0, policyStore != nil else {
                throw ValidationError("--fleet needs --propagation N and --policy-store URL")
            }
            guard fleet >= 2 else { throw ValidationError("--fleet needs at least 2 instances") }
        }
    }

    func run() async throws {
        if console { return try await runConsole() }
        if let policyScale { return try await runPolicyScale(policyScale) }
        if fleet > 0, let policyStore { return try await runFleet(policyStore: policyStore) }
        if propagation > 0 {
            let result = try await PropagationMeasurement(policiesDirectory: policies, rounds: propagation).run()
            print(
                "propagation: \(result.milliseconds.count) admin changes; admin call returned -> next exchange decided: "
                    + "\(Self.percentiles(result.milliseconds)); exchanges decided under the old policy: \(result.stale)"
            )
            if result.stale > 0 { throw ExitCode(1) }
            return
        }
        let rows = try await Simulation(policiesDirectory: policies).run()
        print(Simulation.table(rows))
        let failed = rows.filter { !$0.passed }.count
        print("\(rows.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// The `tenantgate` binary whose `serve` is measured.
    private var binary: String {
        serveBinary
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("tenantgate").path
    }

    private func runPolicyScale(_ directory: String) async throws {
        let result = try await PolicyScaleMeasurement(
            binary: binary,
            policiesDirectory: directory,
            rounds: propagation,
            policyStore: policyStore,
            instances: max(fleet, 1)
        ).run()
        var lines = [
            "policy scale: \(result.tenants) governed tenants, \(result.rules) rules (\(directory))",
            String(format: "  read, parsed and validated in this process: %.2f s", result.validateSeconds),
            String(
                format: "  decisions: %.2f M/s (%.0f%% allowed)",
                result.decisionsPerSecond / 1e6,
                result.allowedShare * 100
            ),
            "  serve listening after: "
                + result.startSeconds.map { String(format: "%.2f s", $0) }.joined(separator: ", "),
        ]
        lines += result.residentMiB.map { String(format: "  resident after %@: %.1f MiB", $0.after, $0.mebibytes) }
        lines += result.inForceMilliseconds.map {
            "  change -> in force, \($0.path): \(Self.percentiles($0.milliseconds))"
        }
        print(lines.joined(separator: "\n"))
    }

    /// Admin changes rotating over a fleet of `tenantgate serve` processes sharing `policyStore`.
    private func runFleet(policyStore: String) async throws {
        let result = try await FleetPropagationMeasurement(
            binary: binary,
            policyStore: policyStore,
            instances: fleet,
            rounds: propagation,
            dataPlane: dataPlane
        ).run()
        let probe = dataPlane ? "Graph request on a connection kept open" : "exchange"
        print(
            """
            fleet propagation: \(fleet) serve instances, one PostgreSQL store, \(propagation) admin changes (writer \
            rotating), \(result.decidedMilliseconds.count) observations on the other instances
              change returned -> next \(probe) decided under the new policy: \(Self.percentiles(result.decidedMilliseconds))
              change returned -> new policy in force (/readyz policy_loaded_at): \(Self.percentiles(result.inForceMilliseconds))
              \(dataPlane ? "requests" : "exchanges"): \(result.exchanges); decided under the old policy before the \
            notification arrived: \
            \(result.beforeNotification), after: \(result.stale)
            """
        )
        if result.stale > 0 { throw ExitCode(1) }
    }

    private static func percentiles(_ values: [Double]) -> String {
        let sorted = values.sorted()
        guard let last = sorted.last else { return "no samples" }
        let p50 = sorted[sorted.count / 2]
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
        return String(format: "p50 %.1f ms, p99 %.1f ms, max %.1f ms", p50, p99, last)
    }

    /// The console on loopback: the mock STS signs administrators in, the proxy decides, until SIGINT or SIGTERM.
    private func runConsole() async throws {
        let harness = try await LoopbackHarness(
            policiesDirectory: policies,
            console: true,
            adminListenPort: adminPort,
            proxyListenPort: proxyPort
        )
        let information = try await harness.consoleInformation()
        if let infoFile {
            let data = try JSONSerialization.data(withJSONObject: information, options: [.sortedKeys, .prettyPrinted])
            try data.write(to: URL(fileURLWithPath: infoFile), options: .atomic)
        }
        let makers = information["maker_tokens"] as? [String: String] ?? [:]
        // Written at once, not buffered: a script waiting for these lines reads them while the console runs.
        FileHandle.standardOutput.write(
            Data(
                """
                TenantGate console: \(information["console"] ?? "")
                  Sign in with the mock Entra page: Megan Bowen (Power Platform Administrator), Adele Vance (Security
                  Administrator), Alex Wilber (no role) or Mallory Throwaway (Global Administrator of a tenant
                  TenantGate does not govern: refused). Policies: a copy in \(harness.policiesDirectory).
                Proxy: http://127.0.0.1:\(harness.proxyPort)  (CA \(harness.caPath), audit log \(harness.auditPath))
                A token exchange created in Contoso signing in to Northwind (blocked until you add the rule):
                  curl --proxy http://127.0.0.1:\(harness.proxyPort) --cacert \(harness.caPath) \\
                    --proxy-header "Proxy-Authorization: Bearer \(makers["contoso"] ?? "")" \\
                    -d 'grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=x' \\
                    https://login.microsoftonline.com/northwind.onmicrosoft.com/oauth2/v2.0/token
                Press Ctrl-C to stop.

                """.utf8
            )
        )
        await Self.untilInterrupted()
        await harness.stop()
    }

    private static func untilInterrupted() async {
        for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
    }
}
