import CrossTenantAccess
import Foundation
import TenantPolicy

/// What only the whole set of documents can show: one file per tenant, the domain directory (governed tenants'
/// domains, then `directory.yaml`), its resource hosts and Azure DevOps organisations, and one place per tenant for
/// cross-tenant access settings. Works on parsed documents in name order; rules come resolved (`ResolvedRules`).
struct CrossDocumentSettling {
    private(set) var diagnostics: [PolicyDiagnostic] = []

    struct Settled {
        var tenants: [GovernedTenant] = []
        var isolationSources: [TenantID: String] = [:]
        var directory = TenantDirectory()
        var crossTenantAccess: [TenantID: CrossTenantAccessPolicy] = [:]
        var crossTenantAccessSources: [TenantID: String] = [:]
    }

    /// Settles `documents` (sorted by name); `rules` gives a governing document's resolved rules against the
    /// directory. Documents are read in place (a class each): a change settles thousands of them, and copying each
    /// one's parsed form would cost more than the settling.
    mutating func settle(
        _ documents: [PolicyLibrary.Document],
        rules: (ParsedPolicyFile.WrittenIsolation, String, TenantDirectory) -> ResolvedRules
    ) -> Settled {
        var settled = Settled()
        let governing = governingDocuments(documents)
        let directoryFiles = documents.filter(\.carriesDirectory).compactMap(\.parsed)
        // Governed tenants' own domains first, then the external tenants of directory.yaml.
        for (isolation, file) in governing {
            for domain in isolation.domains {
                if let owner = settled.directory.register(domain: domain, for: isolation.tenantID) {
                    error(file, "domains", isolation.line, "domain '\(domain)' also belongs to tenant \(owner)")
                }
            }
            if let name = isolation.displayName {
                settled.directory.register(displayName: name, for: isolation.tenantID)
            }
        }
        for file in directoryFiles {
            for entry in file.directoryEntries {
                for domain in entry.domains {
                    if let owner = settled.directory.register(domain: domain, for: entry.tenantID) {
                        error(
                            file.file,
                            "\(entry.field).domains",
                            entry.line,
                            "domain '\(domain)' already belongs to tenant \(owner)"
                        )
                    }
                }
                if let name = entry.displayName, settled.directory.displayName(of: entry.tenantID) == nil {
                    settled.directory.register(displayName: name, for: entry.tenantID)
                }
            }
        }
        for file in directoryFiles {
            for mapping in file.resourceHosts {
                guard let tenant = resolveMapped(mapping, file: file.file, directory: settled.directory) else {
                    continue
                }
                if let owner = settled.directory.register(resourceHost: mapping.key, for: tenant) {
                    error(file.file, mapping.field, mapping.line, "'\(mapping.key)' already belongs to tenant \(owner)")
                }
            }
            for mapping in file.azureDevOpsOrganizations {
                guard let tenant = resolveMapped(mapping, file: file.file, directory: settled.directory) else {
                    continue
                }
                if let owner = settled.directory.register(azureDevOpsOrganization: mapping.key, for: tenant) {
                    error(file.file, mapping.field, mapping.line, "'\(mapping.key)' already belongs to tenant \(owner)")
                }
            }
        }
        for document in documents {
            for unkept in document.parsed?.unkeptDomains ?? []
            where settled.directory.tenant(forDomain: unkept.name) == nil {
                error(document.name, unkept.field, unkept.line, ResolvedRules.unresolved(domain: unkept.name))
            }
        }
        for (isolation, file) in governing {
            let resolved = rules(isolation, file, settled.directory)
            diagnostics += resolved.diagnostics
            settled.tenants.append(
                GovernedTenant(
                    id: isolation.tenantID,
                    displayName: isolation.displayName,
                    domains: isolation.domains,
                    isolation: resolved.policy
                )
            )
            settled.isolationSources[isolation.tenantID] = file
        }
        for document in documents where document.carriesCrossTenantAccess {
            guard let file = document.parsed, let written = file.crossTenantAccess else { continue }
            if let other = settled.crossTenantAccessSources[written.tenantID] {
                error(
                    file.file,
                    "crossTenantAccess",
                    written.line,
                    "tenant \(written.tenantID)'s cross-tenant access settings are already in \(other); one place per tenant"
                )
                continue
            }
            settled.crossTenantAccess[written.tenantID] = written.policy
            settled.crossTenantAccessSources[written.tenantID] = file.file
        }
        return settled
    }

    /// The document governing each tenant: the first by name; a later one is an error.
    private mutating func governingDocuments(
        _ documents: [PolicyLibrary.Document]
    ) -> [(ParsedPolicyFile.WrittenIsolation, String)] {
        var governing: [(ParsedPolicyFile.WrittenIsolation, String)] = []
        governing.reserveCapacity(documents.count)
        var fileByTenant: [TenantID: String] = [:]
        fileByTenant.reserveCapacity(documents.count)
        for document in documents {
            guard let isolation = document.isolation else { continue }
            if let other = fileByTenant[isolation.tenantID] {
                error(
                    document.name,
                    "tenantId",
                    isolation.line,
                    "tenant \(isolation.tenantID) is already governed by \(other); one file per tenant"
                )
            } else {
                fileByTenant[isolation.tenantID] = document.name
                governing.append((isolation, document.name))
            }
        }
        return governing
    }

    /// The tenant a directory mapping names, by ID or by a domain the directory knows.
    private mutating func resolveMapped<Key>(
        _ mapping: ParsedPolicyFile.DirectoryMapping<Key>,
        file: String,
        directory: TenantDirectory
    ) -> TenantID? {
        if let tenant = directory.resolve(mapping.tenant) { return tenant }
        error(file, mapping.field, mapping.line, "'\(mapping.tenant)' is not a tenant the directory knows")
        return nil
    }

    private mutating func error(_ file: String, _ field: String, _ line: Int?, _ message: String) {
        diagnostics.append(PolicyDiagnostic(.error, file: file, field: field, line: line, message: message))
    }
}

/// A governed tenant's isolation policy resolved from its written rules: domains turned into IDs, and the rules that
/// cannot stand refused (an unresolvable domain, the policy's own tenant, a second rule for one tenant).
struct ResolvedRules: Sendable {
    let policy: IsolationPolicy
    let diagnostics: [PolicyDiagnostic]

    /// `tenantOfDomain` resolves a domain a rule names (only asked when one does).
    init(
        _ isolation: ParsedPolicyFile.WrittenIsolation,
        file: String,
        tenantOfDomain: (String) -> TenantID?
    ) {
        var rules: [IsolationRule] = []
        rules.reserveCapacity(isolation.rules.count)
        var diagnostics: [PolicyDiagnostic] = []
        func error(_ field: String, _ line: Int?, _ message: String) {
            diagnostics.append(PolicyDiagnostic(.error, file: file, field: field, line: line, message: message))
        }
        var firstIndexBySubject: [IsolationRule.Subject: Int] = [:]
        firstIndexBySubject.reserveCapacity(isolation.rules.count)
        for (index, written) in isolation.rules.enumerated() {
            let subject: IsolationRule.Subject
            var domain: String?
            switch written.reference {
            case .any:
                subject = .any
            case .id(let id):
                subject = .tenant(id)
            case .domain(let name):
                guard let id = tenantOfDomain(name) else {
                    error("\(written.field).tenant", written.line, Self.unresolved(domain: name))
                    continue
                }
                subject = .tenant(id)
                domain = name
            }
            if case .tenant(let id) = subject, id == isolation.tenantID {
                error(
                    written.field,
                    written.line,
                    "the rule names the policy's own tenant \(id); same-tenant connections are never evaluated, so the rule has no meaning"
                )
                continue
            }
            if let earlier = firstIndexBySubject[subject] {
                error(
                    written.field,
                    written.line,
                    "a second rule for \(written.reference)\(domain.map { _ in " (\(subject.idText))" } ?? ""); \(isolation.rules[earlier].field) already names this tenant: one rule per tenant, with direction both if needed"
                )
                continue
            }
            firstIndexBySubject[subject] = index
            rules.append(IsolationRule(subject: subject, directions: written.directions, domain: domain))
        }
        policy = IsolationPolicy(tenantID: isolation.tenantID, isEnabled: isolation.isEnabled, rules: rules)
        self.diagnostics = diagnostics
    }
}

extension ResolvedRules {
    static func unresolved(domain name: String) -> String {
        "domain '\(name)' does not resolve to a tenant: add it to a governed tenant's domains or to directory.yaml, or write the tenant ID"
    }
}

extension IsolationRule.Subject {
    /// The ID or `*`.
    var idText: String {
        switch self {
        case .any: "*"
        case .tenant(let id): id.description
        }
    }
}
