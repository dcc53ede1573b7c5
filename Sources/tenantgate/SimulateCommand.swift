import ArgumentParser

/// `tenantgate simulate`: the whole system on loopback, playing the seed's scenarios; exits 1 on any mismatch.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a mock Entra STS, the proxy and curl on loopback, and play the seed's scenarios."
    )

    @Option(name: .long, help: "Policies directory holding the seed-* scenario folders.")
    var policies = "policies"

    func run() async throws {
        let rows = try await Simulation(policiesDirectory: policies).run()
        print(Simulation.table(rows))
        let failed = rows.filter { !$0.passed }.count
        print("\(rows.count - failed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.blocked }
    }
}
