import Foundation
import Testing

@testable import tenantgate

/// The deployment files, checked with the tools this machine has: systemd's own verifier and security analysis
/// for the unit, and the command's own configuration reader for the configuration it points at.
struct DeploymentFileTests {
    static let systemd = "\(ProxyEndToEndTests.repository)/deploy/systemd"

    /// Runs a program to its end (at most 30 s): exit status, standard output and standard error.
    static func run(_ program: String, _ arguments: [String]) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// The unit with its `ExecStart` binary replaced by the one `swift test` built, since `verify` checks that it
    /// is executable.
    static func unitForThisMachine() throws -> String {
        let text = try String(contentsOfFile: "\(systemd)/tenantgate.service", encoding: .utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tenantgate-\(UUID()).service").path
        try text.replacingOccurrences(of: "/usr/local/bin/tenantgate", with: ServeProcess.binary)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theSystemdUnitVerifiesWithoutAWarning() throws {
        let unit = try Self.unitForThisMachine()
        defer { try? FileManager.default.removeItem(atPath: unit) }
        let (status, _, errors) = try Self.run("/usr/bin/systemd-analyze", ["verify", unit])
        #expect(status == 0, "\(errors)")
        // `verify` exits 0 on unknown keys: any line it prints is a mistake.
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func theSystemdUnitIsHardened() throws {
        let unit = try Self.unitForThisMachine()
        defer { try? FileManager.default.removeItem(atPath: unit) }
        let (_, output, errors) = try Self.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", unit])
        let report = output + errors
        let level = report.components(separatedBy: "Overall exposure level for ").last?
            .split(separator: ":").dropFirst().first.flatMap { Double($0.split(separator: " ").first ?? "") }
        // systemd rates 0 (locked down) to 10 (exposed); "OK" is below 2.
        #expect(try #require(level, "\(report)") < 2, "\(report)")
        let text = try String(contentsOfFile: "\(Self.systemd)/tenantgate.service", encoding: .utf8)
        for line in ["User=tenantgate", "ExecReload=/bin/kill -HUP $MAINPID", "LimitNOFILE=65536"] {
            #expect(text.contains(line), "\(line)")
        }
    }

    @Test func theConfigurationTheUnitNamesIsValidAndAbsolute() throws {
        let file = try ServeConfigurationFile.load("\(Self.systemd)/config.yaml")
        for path in [file.policies, file.caCert, file.caKey, file.auditLog] {
            #expect(path?.hasPrefix("/") == true, "\(path ?? "missing")")
        }
        let unit = try String(contentsOfFile: "\(Self.systemd)/tenantgate.service", encoding: .utf8)
        #expect(unit.contains("--config /etc/tenantgate/config.yaml"))
    }
}
