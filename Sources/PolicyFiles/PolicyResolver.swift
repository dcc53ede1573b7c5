import CrossTenantAccess
import Foundation
import TenantPolicy

/// Resolves parsed files across the directory: builds the domain directory, turns domain rules into IDs, and
/// reports what only the whole set can show (duplicates, self-rules, unresolvable domains, two files per tenant).
struct PolicyResolver {
    private var diagnostics: [PolicyDiagnostic] = []

    mutating func resolve(_ files: [ParsedPolicyFile], version: String) -> (PolicyBundle, [PolicyDiagnostic]) {
        var directory = TenantDirectory()
        var isolationByTenant: [TenantID: (ParsedPolicyFile.WrittenIsolation, String)] = [:]

        for file in files {
            if let isolation = file.isolation {
                if let (_, other) = isolationByTenant[isolation.tenantID] {
                    error(
                        file.file,
                        "tenantId",
                        isolation.line,
                        "tenant \(isolation.tenantID) is already governed by \(other); one file per tenant"
                    )
                } else {
                    isolationByTenant[isolation.tenantID] = (isolation, file.file)
                }
            }
        }
        // Governed tenants' own domains first, then the external tenants of directory.yaml.
        for (isolation, file) in isolationByTenant.values.sorted(by: { $0.1 < $1.1 }) {
            for domain in isolation.domains {
                if let owner = directory.register(domain: domain, for: isolation.tenantID) {
                    error(file, "domains", isolation.line, "domain '\(domain)' also belongs to tenant \(owner)")
                }
            }
            if let name = isolation.displayName { directory.register(displayName: name, for: isolation.tenantID) }
        }
        for file in files {
            for entry in file.directoryEntries {
                for domain in entry.domains {
                    if let owner = directory.register(domain: domain, for: entry.tenantID) {
                        error(
                            file.file,
                            "\(entry.field).domains",
                            entry.line,
                            "domain '\(domain)' already belongs to tenant \(owner)"
                        )
                    }
                }
                if let name = entry.displayName, directory.displayName(of: entry.tenantID) == nil {
                    directory.register(displayName: name, for: entry.tenantID)
                }
            }
        }
        for file in files {
            for mapping in file.resourceHosts {
                guard let tenant = resolveMapped(mapping, file: file.file, directory: directory) else { continue }
                directory.register(resourceHost: mapping.key, for: tenant)
            }
            for mapping in file.azureDevOpsOrganizations {
                guard let tenant = resolveMapped(mapping, file: file.file, directory: directory) else { continue }
                directory.register(azureDevOpsOrganization: mapping.key, for: tenant)
            }
        }

        var tenants: [GovernedTenant] = []
        var sources: [TenantID: String] = [:]
        for (isolation, file) in isolationByTenant.values {
            let rules = resolveRules(isolation, file: file, directory: directory)
            tenants.append(
                GovernedTenant(
                    id: isolation.tenantID,
                    displayName: isolation.displayName,
                    domains: isolation.domains,
                    isolation: IsolationPolicy(
                        tenantID: isolation.tenantID,
                        isEnabled: isolation.isEnabled,
                        rules: rules
                    )
                )
            )
            sources[isolation.tenantID] = file
        }
        var crossTenantAccess: [TenantID: CrossTenantAccessPolicy] = [:]
        var crossTenantAccessSources: [TenantID: String] = [:]
        for file in files {
            guard let written = file.crossTenantAccess else { continue }
            if let other = crossTenantAccessSources[written.tenantID] {
                error(
                    file.file,
                    "crossTenantAccess",
                    written.line,
                    "tenant \(written.tenantID)'s cross-tenant access settings are already in \(other); one place per tenant"
                )
                continue
            }
            crossTenantAccess[written.tenantID] = written.policy
            crossTenantAccessSources[written.tenantID] = file.file
        }
        let set = PolicySet(tenants: tenants, directory: directory)
        return (
            PolicyBundle(
                isolation: set,
                isolationSources: sources,
                crossTenantAccess: crossTenantAccess,
                crossTenantAccessSources: crossTenantAccessSources,
                version: version
            ),
            diagnostics
        )
    }

    private mutating func resolveRules(
        _ isolation: ParsedPolicyFile.WrittenIsolation,
        file: String,
        directory: TenantDirectory
    ) -> [IsolationRule] {
        var rules: [IsolationRule] = []
        var firstFieldBySubject: [IsolationRule.Subject: String] = [:]
        for written in isolation.rules {
            let subject: IsolationRule.Subject
            var domain: String?
            switch written.reference {
            case .any:
                subject = .any
            case .id(let id):
                subject = .tenant(id)
            case .domain(let name):
                guard let id = directory.tenant(forDomain: name) else {
                    error(
                        file,
                        "\(written.field).tenant",
                        written.line,
                        "domain '\(name)' does not resolve to a tenant: add it to a governed tenant's domains or to directory.yaml, or write the tenant ID"
                    )
                    continue
                }
                subject = .tenant(id)
                domain = name
            }
            if case .tenant(let id) = subject, id == isolation.tenantID {
                error(
                    file,
                    written.field,
                    written.line,
                    "the rule names the policy's own tenant \(id); same-tenant connections are never evaluated, so the rule has no meaning"
                )
                continue
            }
            if let earlier = firstFieldBySubject[subject] {
                error(
                    file,
                    written.field,
                    written.line,
                    "a second rule for \(written.reference)\(domain.map { _ in " (\(subject.idText))" } ?? ""); \(earlier) already names this tenant: one rule per tenant, with direction both if needed"
                )
                continue
            }
            firstFieldBySubject[subject] = written.field
            rules.append(IsolationRule(subject: subject, directions: written.directions, domain: domain))
        }
        return rules
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

extension IsolationRule.Subject {
    /// The ID or `*`.
    var idText: String {
        switch self {
        case .any: "*"
        case .tenant(let id): id.description
        }
    }

}
