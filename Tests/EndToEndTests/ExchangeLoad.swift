import Foundation
import LoopbackSimulation
import MockSTS
import TenantPolicy

/// Token exchanges kept up through running instances while a test does something else to them, one Python process
/// per instance (`Clients/exchange_load.py`): no curl process per request, so nothing is left to reap.
struct ExchangeLoad {
    struct Report: Decodable, CustomStringConvertible {
        let exchanges: Int
        /// The first unexpected answers: port, path, expected and got (a status or an error's text), all as text.
        let unexpected: [[String: String]]
        var description: String { "\(exchanges) exchanges, unexpected: \(unexpected)" }
    }

    static let script = "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/exchange_load.py"
    let stopFile: String
    let runs: [Task<String, any Error>]

    /// Starts one load per harness, a Contoso maker's exchanges to each path expecting its status; bounded at
    /// `seconds` should the test never finish it.
    static func start(
        through harnesses: [LoopbackHarness],
        expecting: [String: Int],
        seconds: Int = 120
    ) async throws -> ExchangeLoad {
        let stopFile = FileManager.default.temporaryDirectory.appendingPathComponent("load-\(UUID().uuidString)").path
        var runs: [Task<String, any Error>] = []
        for harness in harnesses {
            let token = try await harness.sts.makerToken(tenant: ProxyEndToEndTests.contoso)
            let arguments =
                [script, stopFile, String(seconds), harness.caPath, token, String(harness.proxyPort)]
                + expecting.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            runs.append(Task { try await Python.run(arguments, timeoutSeconds: Double(seconds + 30)) })
        }
        return ExchangeLoad(stopFile: stopFile, runs: runs)
    }

    /// Stops every load and gives what each saw.
    func finish() async throws -> [Report] {
        FileManager.default.createFile(atPath: stopFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: stopFile) }
        var reports: [Report] = []
        for run in runs {
            let output = try await run.value
            let line = output.split(separator: "\n").last.map(String.init) ?? ""
            reports.append(try JSONDecoder().decode(Report.self, from: Data(line.utf8)))
        }
        return reports
    }
}
