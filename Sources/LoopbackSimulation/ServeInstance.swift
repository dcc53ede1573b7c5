import Foundation

/// A `tenantgate serve` child process: its standard output and error go to files in `directory` (no pipes to
/// drain), and it is ready once it has printed the contract's `listening on HOST:PORT` line. Every wait is bounded.
final class ServeInstance: @unchecked Sendable {
    let proxyPort: Int
    let logPath: String
    private let process: Process

    /// Starts `binary serve arguments…` and waits at most `seconds` for its `listening on` line.
    init(binary: String, arguments: [String], directory: URL, name: String, seconds: Double = 30) async throws {
        let outputPath = directory.appendingPathComponent("\(name).out").path
        logPath = directory.appendingPathComponent("\(name).log").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        var port: Int?
        while port == nil, process.isRunning, Date() < deadline {
            let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                port = line.split(separator: ":").last.flatMap { Int($0) }
            } else {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw Curl.Failure(description: "\(name) did not start within \(seconds) s:\n\(log.suffix(2000))")
        }
        proxyPort = port
    }

    /// The process's resident set size now, in MiB (`VmRSS`).
    func residentMiB() -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kilobytes = line?.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        return kilobytes / 1024
    }

    func signal(_ number: Int32) {
        kill(process.processIdentifier, number)
    }

    /// SIGTERM (a graceful drain), then SIGKILL after `seconds`.
    func stop(seconds: Double = 10) async {
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
