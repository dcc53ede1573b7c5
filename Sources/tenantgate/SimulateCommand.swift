import ArgumentParser
import Foundation
import LoopbackSimulation

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

    func run() async throws {
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
}
