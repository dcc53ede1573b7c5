import ArgumentParser
import Foundation
import Logging

/// The `tenantgate` command tree (SPEC 4). Bad input exits 2, as `check` and `validate` promise.
@main
struct TenantGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantgate",
        abstract: "A forward proxy that enforces cross-tenant isolation on connector traffic.",
        subcommands: [
            ServeCommand.self, CheckCommand.self, SettingsCommand.self, ValidateCommand.self, ReportCommand.self,
            PoliciesCommand.self, ShipCommand.self,
        ]
    )

    static func main() async {
        // A reader that stops early (`tenantgate serve --help | grep -q …` under `pipefail`, `report | head`) must
        // not kill the command with SIGPIPE mid-write: the write fails instead, and the command ends normally.
        signal(SIGPIPE, SIG_IGN)
        LoggingSystem.bootstrap { EscapingLogHandler(inner: StreamLogHandler.standardError(label: $0)) }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            // Usage errors exit 2 (bad input) rather than ArgumentParser's 64, per SPEC 4.
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(ExitCode.badInput.rawValue)
            }
            exit(withError: error)
        }
    }
}

extension ExitCode {
    /// SPEC 4: 0 allowed, 1 blocked, 2 bad input.
    static let blocked = ExitCode(1)
    static let badInput = ExitCode(2)
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
