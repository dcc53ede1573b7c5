import ArgumentParser
import CrossTenantAccess
import Foundation
import Plumbing
import PolicyFiles
import TenantPolicy

/// `tenantgate settings`: a tenant's cross-tenant access settings toward one partner, with every inherited value
/// resolved from the default (SPEC 2.2), printed in Graph's partner shape; what is in force rather than what
/// was written.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "Print a tenant's effective cross-tenant access settings toward a partner (inheritance resolved).",
        discussion: "Exit status: 0, or 2 for bad input. Tenants are GUIDs or domains the policies know."
    )

    @Option(name: .long, help: "The policies directory.")
    var policies: String

    @Option(name: .long, help: "The tenant whose settings are shown.")
    var tenant: String

    @Option(name: .long, help: "The partner tenant.")
    var partner: String

    func run() throws {
        let bundle: PolicyBundle
        switch PolicyDirectoryLoader.load(directory: policies) {
        case .success(let loaded): bundle = loaded
        case .failure(let error):
            for diagnostic in error.diagnostics { printError(ValidateCommand.shown(diagnostic.description)) }
            throw ExitCode.badInput
        }
        let set = bundle.isolation
        guard let local = TenantReference(parsing: tenant).flatMap(set.directory.resolve) else {
            printError("--tenant: '\(tenant)' is not a tenant ID or a domain the policies know")
            throw ExitCode.badInput
        }
        guard let other = TenantReference(parsing: partner).flatMap(set.directory.resolve) else {
            printError("--partner: '\(partner)' is not a tenant ID or a domain the policies know")
            throw ExitCode.badInput
        }
        let settings = bundle.crossTenantAccess[local]
        let effective = (settings ?? CrossTenantAccessPolicy()).effectiveSettings(for: other)
        let source =
            settings == nil
            ? "\(set.name(local)) has no cross-tenant access settings: the service default is in force"
            : effective.isPartner
                ? "\(set.name(local))'s partner configuration for \(set.name(other))"
                : "\(set.name(other)) is no partner of \(set.name(local)): the default configuration is in force"
        // A policy's text (a display name, a target) as a terminal may show it (review 58).
        printError(
            ValidateCommand.shown(
                "# \(source); inherited from the default: "
                    + (effective.inheritedProperties.isEmpty
                        ? "nothing" : effective.inheritedProperties.joined(separator: ", "))
            )
        )
        print(InvisibleControls.escapedInJSON(String(decoding: try effective.encoded(pretty: true), as: UTF8.self)))
    }
}
