import CrossTenantAccess
import Foundation
import TenantPolicy

/// Everything loaded from a policies directory: one immutable, fully validated snapshot.
///
/// The proxy holds one bundle at a time and swaps it whole on reload; a bundle with errors is never built.
package struct PolicyBundle: Sendable {
    /// Tenant isolation policies and the domain directory (SPEC 2.1).
    package let isolation: PolicySet
    /// The file each governed tenant's isolation policy came from (admin writes go back to it).
    package let isolationSources: [TenantID: String]
    /// Governed tenants' cross-tenant access settings (SPEC 2.2); a tenant absent here is at the service default.
    package let crossTenantAccess: [TenantID: CrossTenantAccessPolicy]
    /// The file each tenant's cross-tenant access settings came from.
    package let crossTenantAccessSources: [TenantID: String]
    /// Warnings that did not stop the load (unknown fields, tolerated spellings).
    package let warnings: [PolicyDiagnostic]
    /// A short content hash of the loaded files, to tell versions apart in logs and metrics.
    package let version: String

    package init(
        isolation: PolicySet,
        isolationSources: [TenantID: String] = [:],
        crossTenantAccess: [TenantID: CrossTenantAccessPolicy] = [:],
        crossTenantAccessSources: [TenantID: String] = [:],
        warnings: [PolicyDiagnostic] = [],
        version: String = "empty"
    ) {
        self.isolation = isolation
        self.isolationSources = isolationSources
        self.crossTenantAccess = crossTenantAccess
        self.crossTenantAccessSources = crossTenantAccessSources
        self.warnings = warnings
        self.version = version
    }
}
