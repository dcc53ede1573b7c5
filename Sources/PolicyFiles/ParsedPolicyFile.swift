import CrossTenantAccess
import Foundation
import TenantPolicy

/// What one policy file says, before domains are resolved across the whole directory.
struct ParsedPolicyFile: Sendable {
    /// A rule as written, with where it was written.
    struct WrittenRule: Equatable {
        /// The list a rule is written in, which names its field.
        enum List {
            case powerPlatform
            case projectYAML

            var field: String {
                switch self {
                case .powerPlatform: "properties.allowedTenants"
                case .projectYAML: "isolation.rules"
                }
            }
        }

        let reference: TenantReference
        let directions: DirectionSet
        let list: List
        let index: Int
        let line: Int?

        /// `properties.allowedTenants[3]`, made only for a message: a million rules need no million field names.
        var field: String { "\(list.field)[\(index)]" }
    }

    /// A tenant's isolation policy as written in one file.
    struct WrittenIsolation: Equatable {
        let tenantID: TenantID
        let displayName: String?
        let domains: [String]
        let isEnabled: Bool
        var rules: [WrittenRule]
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
    struct DirectoryMapping<Key: Sendable>: Sendable {
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

    /// A domain named by a rule the parser did not keep (it has another error, or its file names no valid tenant):
    /// still looked up once the whole directory is known, so that one run of `validate` lists every error.
    struct UnkeptDomain {
        let name: String
        let field: String
        let line: Int?
    }

    let file: String
    var isolation: WrittenIsolation?
    var unkeptDomains: [UnkeptDomain] = []
    var crossTenantAccess: WrittenCrossTenantAccess?
    var directoryEntries: [DirectoryEntry] = []
    var resourceHosts: [DirectoryMapping<HostPattern>] = []
    var azureDevOpsOrganizations: [DirectoryMapping<String>] = []
}
