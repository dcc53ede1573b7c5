import ArgumentParser
import Foundation
import LoopbackSimulation
import UnixSignals

/// `tenantgate simulate`: the whole system on loopback, playing the seed's scenarios; exits 1 on any mismatch.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a mock Entra STS, the proxy and curl on loopback, and play the seed's scenarios."
    )

    @Option(name: .long, help: "Policies directory holding the seed-* scenario folders.")
    var policies = "policies"

    @Option(name: .long, help: "Also measure admin-change propagation over this many policy changes (0: off).")
    var propagation = 0

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

    func run() async throws {
        if console { return try await runConsole() }
        if propagation > 0 {
            let result = try await PropagationMeasurement(policiesDirectory: policies, rounds: propagation).run()
            let sorted = result.milliseconds.sorted()
            let p50 = sorted[sorted.count / 2]
            let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
            print(
                String(
                    format:
                        "propagation: %d admin changes; admin call returned -> next exchange decided: p50 %.1f ms, p99 %.1f ms, max %.1f ms; exchanges decided under the old policy: %d",
                    sorted.count,
                    p50,
                    p99,
                    sorted.last ?? 0,
                    result.stale
                )
            )
            if result.stale > 0 { throw ExitCode.blocked }
            return
        }
        let rows = try await Simulation(policiesDirectory: policies).run()
        print(Simulation.table(rows))
        let failed = rows.filter { !$0.passed }.count
        print("\(rows.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.blocked }
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
                  Administrator) or Alex Wilber (no role). Policies: a copy in \(harness.policiesDirectory).
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
