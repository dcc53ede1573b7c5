import Foundation

// `tenantgate-bench [--only decisions|tokens|resources|certificates|policy-changes]`: micro-benchmarks that print figures (never timed
// unit tests).
// Run in release: swift run -c release tenantgate-bench
let arguments = CommandLine.arguments
let only = arguments.firstIndex(of: "--only").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }

let known = ["decisions", "tokens", "resources", "certificates", "policy-changes"]
if let only, !known.contains(only) {
    let message = "unknown benchmark '\(only)': use one of \(known.joined(separator: ", "))\n"
    FileHandle.standardError.write(Data(message.utf8))
    exit(2)
}

var results: [BenchmarkResult] = []
if only == nil || only == "decisions" {
    results += DecisionBenchmark.run(decisions: 20_000_000)
}
if only == nil || only == "tokens" {
    results += TokenBenchmark.run(iterations: 200_000)
}
if only == nil || only == "resources" {
    results += ResourceJudgingBenchmark.run(iterations: 1_000_000)
}
if only == nil || only == "policy-changes" {
    results += PolicyChangeBenchmark.run(tenants: 2_000, rules: 500, changes: 50)
}
if only == nil || only == "certificates" {
    results += CertificateBenchmark.run(mints: 5_000, rsaMints: 1_000, lookups: 2_000_000)
}

func column(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}
print(column("benchmark", 34) + column("operations", 12) + column("seconds", 10) + column("per second", 16) + "ns/op")
for result in results {
    print(
        column(result.name, 34) + column("\(result.operations)", 12)
            + column(String(format: "%.3f", result.seconds), 10)
            + column(String(format: "%.0f", result.perSecond), 16)
            + String(format: "%.1f", result.nanosecondsPerOperation)
            + "   (checksum \(result.checksum))"
    )
}
let decisionRows = results.filter { $0.name.hasPrefix("decisions") }
if decisionRows.count == 2 {
    print(
        String(
            format: "decisions: 100,000-rule time per decision / 10-rule = %.2fx",
            decisionRows[1].nanosecondsPerOperation / decisionRows[0].nanosecondsPerOperation
        )
    )
}
