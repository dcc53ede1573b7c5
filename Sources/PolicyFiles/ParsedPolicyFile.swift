import CrossTenantAccess
import Foundation
import TenantPolicy

/// What one policy file says, before domains are resolved across the whole directory.
struct ParsedPolicyFile {
    /// A rule as written, with where it was written.
    struct WrittenRule {
        let reference: TenantReference
        let directions: DirectionSet
        let field: String
        let line: Int?
    }

    /// A tenant's isolation policy as written in one file.
    struct WrittenIsolation {
        let tenantID: TenantID
        let displayName: String?
        let domains: [String]
        let isEnabled: Bool
        let rules: [WrittenRule]
        let line: Int?
    }

    /// An external tenant's names from `directory.yaml`.
    struct DirectoryEntry {
        let tenantID: TenantID
        let displayName: String?
        let domains: [String]
        let field: String
        let line: Int?
    }

    /// A name `directory.yaml` gives a tenant beside its domains: a resource host (`resourceHosts`) or an Azure
    /// DevOps organisation (`azureDevOpsOrganizations`). The tenant is written as an ID or a domain, resolved once
    /// the whole directory is known.
    struct DirectoryMapping<Key> {
        let key: Key
        let tenant: TenantReference
        let field: String
        let line: Int?
    }

    /// A tenant's cross-tenant access settings, decoded and checked on their own (SPEC 2.2).
    struct WrittenCrossTenantAccess {
        let tenantID: TenantID
        let policy: CrossTenantAccessPolicy
        let line: Int?
    }

    let file: String
    var isolation: WrittenIsolation?
    var crossTenantAccess: WrittenCrossTenantAccess?
    var directoryEntries: [DirectoryEntry] = []
    var resourceHosts: [DirectoryMapping<HostPattern>] = []
    var azureDevOpsOrganizations: [DirectoryMapping<String>] = []
}
