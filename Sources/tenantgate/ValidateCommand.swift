import ArgumentParser
import CrossTenantAccess
import PolicyFiles
import TenantPolicy

/// `tenantgate validate --policies DIR`: exit 0, or 2 with every error, each naming file, field and problem.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate a policies directory; print every error with its file, line and field."
    )

    @Option(name: .long, help: "The policies directory.")
    var policies: String

    func run() throws {
        switch PolicyDirectoryLoader.load(directory: policies) {
        case .success(let bundle):
            for warning in bundle.warnings { printError(Self.shown(warning.description)) }
            let tenants = bundle.isolation.tenants.values.sorted { $0.id < $1.id }
            print(
                "\(policies): valid, \(tenants.count) governed tenant\(tenants.count == 1 ? "" : "s") (version \(bundle.version))"
            )
            for tenant in tenants {
                let state = tenant.isolation.isEnabled ? "On" : "Off"
                let rules = tenant.isolation.rules.map(\.description).joined(separator: "; ")
                print(
                    Self.shown(
                        "  \(bundle.isolation.label(tenant.id)): isolation \(state), \(tenant.isolation.ruleCount) rule(s)\(rules.isEmpty ? "" : ": \(rules)")"
                    )
                )
            }
            for (tenant, settings) in bundle.crossTenantAccess.sorted(by: { $0.key < $1.key }) {
                let defaults = settings.default.isServiceDefault ? "service default" : "customized default"
                let clouds =
                    settings.allowedCloudEndpoints.isEmpty
                    ? "" : ", other clouds: \(settings.allowedCloudEndpoints.joined(separator: ", "))"
                print(
                    Self.shown(
                        "  \(bundle.isolation.label(tenant)): cross-tenant access, \(defaults), \(settings.partners.count) partner(s)\(clouds)"
                    )
                )
            }
        case .failure(let error):
            for diagnostic in error.diagnostics { printError(Self.shown(diagnostic.description)) }
            printError("\(policies): invalid, \(error.errors.count) error(s); nothing would be applied")
            throw ExitCode.badInput
        }
    }

    /// What a policy file says, as a terminal may show it: its control and bidirectional characters escaped, so that
    /// a value an administrator stored (through the admin API too) cannot retitle the window, clear the screen or
    /// reorder the line (review 57).
    static func shown(_ text: String) -> String { TerminalText.escaped(text) }

    /// `shown` for each line of a message of several.
    static func shownLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { shown(String($0)) }.joined(separator: "\n")
    }
}
