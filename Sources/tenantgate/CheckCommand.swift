import ArgumentParser
import CrossTenantAccess
import Foundation
import Plumbing
import PolicyFiles
import TenantPolicy

/// `tenantgate check`: asks the policies one question and explains the answer (SPEC 4). Without `--kind` the
/// question is tenant isolation (creator → sign-in); with `--kind` it is a cross-tenant access setting (SPEC 2.2).
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Decide one connection against a policies directory: tenant isolation, or with --kind a "
            + "cross-tenant access setting.",
        discussion: """
            Exit status: 0 allowed, 1 blocked, 2 bad input. Tenants are GUIDs or domains the policies know.

            Tenant isolation: --creator TENANT --sign-in TENANT.
            Cross-tenant access: --kind KIND --tenant TENANT --partner TENANT [--direction inbound|outbound] \
            [--user ID] [--group ID]... [--app ID]. --tenant and --partner default to --creator and --sign-in. \
            A user or application left out is unknown: it matches AllUsers or AllApplications, and no list of \
            named ones admits it, allowed or blocked (it could be one of them).
            """
    )

    @Option(name: .long, help: "The policies directory.")
    var policies: String

    @Option(name: .long, help: "The creator tenant: ID or verified domain.")
    var creator: String?

    @Option(name: .customLong("sign-in"), help: "The sign-in tenant: ID, verified domain, or 'unknown'.")
    var signIn: String?

    @Option(
        name: .long,
        help: "Ask a cross-tenant access setting: b2b-collaboration, b2b-direct-connect, tenant-restrictions."
    )
    var kind: CrossTenantAccessKind?

    @Option(
        name: .long,
        help: "With --kind: inbound or outbound, seen from --tenant (not used by tenant-restrictions)."
    )
    var direction: Direction?

    @Option(name: .long, help: "With --kind: the tenant whose settings answer (defaults to --creator).")
    var tenant: String?

    @Option(name: .long, help: "With --kind: the other tenant (defaults to --sign-in).")
    var partner: String?

    @Option(name: .long, help: "With --kind: the user's object ID.")
    var user: String?

    @Option(name: .long, help: "With --kind: a group the user is in (repeatable).")
    var group: [String] = []

    @Option(name: .long, help: "With --kind: the application (client) ID.")
    var app: String?

    @Flag(name: .long, help: "Print {\"decision\", \"directions\", \"explanation\"} as JSON.")
    var json = false

    func validate() throws {
        if kind == nil {
            guard creator != nil, signIn != nil else {
                throw ValidationError("give --creator and --sign-in, or --kind with --tenant and --partner")
            }
            guard direction == nil, tenant == nil, partner == nil, user == nil, group.isEmpty, app == nil else {
                throw ValidationError("--direction, --tenant, --partner, --user, --group and --app need --kind")
            }
        } else {
            guard tenant ?? creator != nil, partner ?? signIn != nil else {
                throw ValidationError("--kind needs --tenant (or --creator) and --partner (or --sign-in)")
            }
            if let kind, kind != .tenantRestrictions, direction == nil {
                throw ValidationError("--kind \(kind.argumentName) needs --direction inbound or outbound")
            }
            if user == nil && !group.isEmpty { throw ValidationError("--group needs --user") }
        }
    }

    func run() throws {
        let bundle: PolicyBundle
        switch PolicyDirectoryLoader.load(directory: policies) {
        case .success(let loaded): bundle = loaded
        case .failure(let error):
            for diagnostic in error.diagnostics { printError(ValidateCommand.shown(diagnostic.description)) }
            printError("\(policies): invalid policies; run 'tenantgate validate --policies \(policies)'")
            throw ExitCode.badInput
        }
        let allowed = try kind.map { try checkCrossTenantAccess($0, bundle) } ?? checkIsolation(bundle)
        if !allowed { throw ExitCode.blocked }
    }

    private func checkIsolation(_ bundle: PolicyBundle) throws -> Bool {
        let set = bundle.isolation
        let creatorID = try resolve(creator ?? "", option: "--creator", in: set)
        let signInText = signIn ?? ""
        let signInID =
            signInText.lowercased() == "unknown" ? nil : try resolve(signInText, option: "--sign-in", in: set)
        let answer = PolicyQuestion.isolation(creator: creatorID, signIn: signInID, in: bundle)
        print(json ? CheckOutput(answer).json() : ValidateCommand.shown(answer.explanation))
        return answer.isAllowed
    }

    private func checkCrossTenantAccess(_ kind: CrossTenantAccessKind, _ bundle: PolicyBundle) throws -> Bool {
        let set = bundle.isolation
        let local = try resolve(tenant ?? creator ?? "", option: tenant == nil ? "--creator" : "--tenant", in: set)
        let other = try resolve(partner ?? signIn ?? "", option: partner == nil ? "--sign-in" : "--partner", in: set)
        let query = CrossTenantAccessQuery(
            kind: kind,
            direction: direction ?? .inbound,
            partner: other,
            user: user.map { UserIdentity(id: $0, groupIDs: group) },
            application: app
        )
        let answer = PolicyQuestion.crossTenantAccess(query, tenant: local, in: bundle, source: policies)
        print(json ? CheckOutput(answer).json() : ValidateCommand.shown(answer.explanation))
        return answer.isAllowed
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

extension CrossTenantAccessKind: ExpressibleByArgument {
    /// `b2b-collaboration`, as the command line spells it.
    var argumentName: String {
        switch self {
        case .b2bCollaboration: "b2b-collaboration"
        case .b2bDirectConnect: "b2b-direct-connect"
        case .tenantRestrictions: "tenant-restrictions"
        }
    }

    package init?(argument: String) {
        guard let kind = Self.allCases.first(where: { $0.argumentName == argument.lowercased() }) else { return nil }
        self = kind
    }

    package static var allValueStrings: [String] { allCases.map(\.argumentName) }
}

extension Direction: ExpressibleByArgument {}

/// The `--json` shape of `check`: SPEC 4's three keys; a cross-tenant access answer adds which setting and
/// configuration answered, whether it was inherited, and the target that decided.
struct CheckOutput: Encodable {
    let decision: String
    let directions: [String]
    let explanation: String
    var setting: String?
    var configuration: String?
    var inherited: Bool?
    var target: String?

    init(_ answer: PolicyQuestion.Answer) {
        decision = answer.isAllowed ? "allowed" : "blocked"
        directions = answer.blockedDirections.map(\.rawValue)
        explanation = answer.explanation
        setting = answer.setting
        configuration = answer.configuration
        inherited = answer.inherited
        target = answer.target
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        // C1 and bidirectional controls of a policy's text as `\u` escapes: Foundation writes them as they are.
        return InvisibleControls.escapedInJSON(String(decoding: data, as: UTF8.self))
    }
}
