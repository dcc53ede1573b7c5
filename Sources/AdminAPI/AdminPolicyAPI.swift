import Audit
import EntraAuth
import Foundation
import PolicyFiles
import PolicyService
import TenantPolicy

/// The policy endpoints' collaborators: who may call them, where edits are written, where they are audited.
package struct AdminPolicyAPI: Sendable {
    let authenticator: AdminAuthenticator?
    let isolation: IsolationEndpoints
    let crossTenantAccess: CrossTenantAccessEndpoints
    private let store: PolicyStore
    private let adminTenants: Set<TenantID>?

    /// - Parameters:
    ///   - authenticator: nil refuses every bearer call with 401 (no keys configured): safe by default.
    ///   - adminTenants: `--admin-tenant`: whose administrators may use the API and the console; nil: those of the
    ///     tenants the policies govern.
    package init(
        source: any PolicySource,
        store: PolicyStore,
        audit: AuditLog,
        authenticator: AdminAuthenticator?,
        adminTenants: Set<TenantID>? = nil
    ) {
        self.authenticator = authenticator
        self.store = store
        self.adminTenants = adminTenants
        let writer = PolicyWriter(source: source, store: store, audit: audit)
        isolation = IsolationEndpoints(writer: writer)
        crossTenantAccess = CrossTenantAccessEndpoints(writer: writer)
    }

    /// Whether administrators of `tenant` may use this TenantGate at all: any Entra tenant's Global Administrator
    /// holds the roles, so the roles alone would let a throwaway tenant's administrator create a policy document that
    /// joins the fleet's set. Only the operator's list, or the tenants already governed, are trusted.
    package func admits(_ tenant: TenantID) -> Bool {
        if let adminTenants { return adminTenants.contains(tenant) }
        let bundle = store.current().bundle
        return bundle.isolation.tenant(tenant) != nil || bundle.crossTenantAccess[tenant] != nil
    }

    /// A tenant's isolation policy in the API's own shape (Power Platform's document) with the ETag the API gives,
    /// so that a console edit sent with it meets the same precondition as any API call; nil without a policy.
    package func isolationDocument(for tenant: TenantID) -> (json: String, etag: String?)? {
        let bundle = isolation.writer.store.current().bundle
        let state = TenantPolicyState(tenant: tenant, bundle: bundle)
        guard let policy = state.isolation,
            let json = try? AdminJSON.encode(
                PowerPlatformIsolationDocument(policy, directory: bundle.isolation.directory)
            )
        else { return nil }
        return (
            String(decoding: json, as: UTF8.self),
            PolicyWriter.etag(.isolation, of: state, directory: bundle.isolation.directory)
        )
    }

    /// The ETag of a tenant's cross-tenant access settings as the Graph endpoints give it.
    package func crossTenantAccessETag(for tenant: TenantID) -> String? {
        crossTenantAccess.etag(tenant)
    }
}
