import ArgumentParser
import Foundation
import PolicyFiles
import TenantPolicy

/// `tenantgate check`: asks the decision engine one question and explains the answer (SPEC 4).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Decide one connection (creator tenant → sign-in tenant) against a policies directory.",
        discussion: "Exit status: 0 allowed, 1 blocked, 2 bad input. Tenants are GUIDs or domains the policies know."
    )

    @Option(name: .long, help: "The policies directory.")
    var policies: String

    @Option(name: .long, help: "The creator tenant: ID or verified domain.")
    var creator: String

    @Option(name: .customLong("sign-in"), help: "The sign-in tenant: ID, verified domain, or 'unknown'.")
    var signIn: String

    @Flag(name: .long, help: "Print {\"decision\", \"directions\", \"explanation\"} as JSON.")
    var json = false

    func run() throws {
        let bundle: PolicyBundle
        switch PolicyDirectoryLoader.load(directory: policies) {
        case .success(let loaded): bundle = loaded
        case .failure(let error):
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            printError("\(policies): invalid policies; run 'tenantgate validate --policies \(policies)'")
            throw ExitCode.badInput
        }
        let set = bundle.isolation
        let creatorID = try resolve(creator, option: "--creator", in: set)
        let signInID: TenantID? = signIn.lowercased() == "unknown" ? nil : try resolve(signIn, option: "--sign-in", in: set)
        let decision = set.decide(creator: creatorID, signIn: signInID)
        let explanation = decision.explanation(naming: set.name)
        if json {
            print(CheckOutput(decision: decision, explanation: explanation).json())
        } else {
            print(explanation)
        }
        if !decision.isAllowed { throw ExitCode.blocked }
    }

    private func resolve(_ text: String, option: String, in set: PolicySet) throws -> TenantID {
        guard let reference = TenantReference(parsing: text), reference != .any else {
            printError("\(option): '\(text)' is not a tenant ID (GUID) or domain")
            throw ExitCode.badInput
        }
        guard let id = set.directory.resolve(reference) else {
            printError("\(option): domain '\(text)' is not known to the policies (add it to directory.yaml)")
            throw ExitCode.badInput
        }
        return id
    }
}

/// The `--json` shape of `check`: exactly SPEC 4's three keys.
struct CheckOutput: Encodable {
    let decision: String
    let directions: [String]
    let explanation: String

    init(decision: IsolationDecision, explanation: String) {
        self.decision = decision.isAllowed ? "allowed" : "blocked"
        self.directions = decision.blockedDirections.map(\.rawValue)
        self.explanation = explanation
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
