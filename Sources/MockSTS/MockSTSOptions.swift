import TenantPolicy

/// How the mock STS behaves: which domains it knows, and the tenant claimed by Azure DevOps tokens.
package struct MockSTSOptions: Sendable {
    /// Verified domains the mock resolves in token paths.
    package var domains: [String: TenantID]
    /// The `tid` an Azure DevOps token carries (it must not be trusted).
    package var azureDevOpsTenant: TenantID
    /// The accounts the authorization code flow's sign-in page offers.
    package var consoleUsers: [MockConsoleUser]
    /// The names its TLS certificate carries; nil for every host it stands for, and 127.0.0.1.
    package var certificateNames: [String]?

    package init(
        domains: [String: TenantID] = [:],
        azureDevOpsTenant: TenantID = TenantID(high: 0x8ac9_0d1b_d459_4375, low: 0xa421_dd00_05f9_d0d1),
        consoleUsers: [MockConsoleUser] = MockConsoleUser.examples,
        certificateNames: [String]? = nil
    ) {
        self.domains = domains
        self.azureDevOpsTenant = azureDevOpsTenant
        self.consoleUsers = consoleUsers
        self.certificateNames = certificateNames
    }
}
