import TenantPolicy

/// How the mock STS behaves: which domains it knows, and the tenant claimed by Azure DevOps tokens.
package struct MockSTSOptions: Sendable {
    /// Verified domains the mock resolves in token paths.
    package var domains: [String: TenantID]
    /// The `tid` an Azure DevOps token carries (it must not be trusted).
    package var azureDevOpsTenant: TenantID

    package init(
        domains: [String: TenantID] = [:],
        azureDevOpsTenant: TenantID = TenantID(high: 0x8ac9_0d1b_d459_4375, low: 0xa421_dd00_05f9_d0d1)
    ) {
        self.domains = domains
        self.azureDevOpsTenant = azureDevOpsTenant
    }
}
