import TenantPolicy

/// An account the mock STS's sign-in page offers for the authorization code flow: who signs in to the console, in
/// which tenant, with which directory roles (`wids`).
package struct MockConsoleUser: Sendable, Hashable {
    /// The short key the sign-in page's link carries (`mock_user`), and the element ID browser tests click.
    package let key: String
    package let name: String
    package let username: String
    package let tenant: TenantID
    package let roleTemplateIDs: [String]
    /// What the sign-in page says the account is, e.g. "Power Platform Administrator".
    package let roleDescription: String

    package init(
        key: String,
        name: String,
        username: String,
        tenant: TenantID,
        roleTemplateIDs: [String],
        roleDescription: String
    ) {
        self.key = key
        self.name = name
        self.username = username
        self.tenant = tenant
        self.roleTemplateIDs = roleTemplateIDs
        self.roleDescription = roleDescription
    }

    static let contoso = TenantID(high: 0xbb1b_10fb_a1ff_4ca4, low: 0xb979_03fc_f4af_49a0)
    /// A tenant no example policy governs: anyone can create one in minutes and be its Global Administrator.
    package static let throwawayTenant = TenantID(high: 0x6f0e_8a3d_2b7c_4e19, low: 0x9a5d_3c1b_8e7f_2a60)

    /// Contoso's people as the seed's scenarios have them: one administrator per console area and one without a role;
    /// and the Global Administrator of a throwaway tenant, whom TenantGate must not trust by default.
    package static let examples: [MockConsoleUser] = [
        MockConsoleUser(
            key: "megan",
            name: "Megan Bowen",
            username: "megan@contoso.onmicrosoft.com",
            tenant: contoso,
            roleTemplateIDs: ["11648597-926c-4cf3-9c36-bcebb0ba8dcc"],
            roleDescription: "Power Platform Administrator"
        ),
        MockConsoleUser(
            key: "adele",
            name: "Adele Vance",
            username: "adele@contoso.onmicrosoft.com",
            tenant: contoso,
            roleTemplateIDs: ["194ae4cb-b126-40b2-bd5b-6091b380977d"],
            roleDescription: "Security Administrator"
        ),
        MockConsoleUser(
            key: "alex",
            name: "Alex Wilber",
            username: "alex@contoso.onmicrosoft.com",
            tenant: contoso,
            roleTemplateIDs: [],
            roleDescription: "no administrator role"
        ),
        MockConsoleUser(
            key: "mallory",
            name: "Mallory Throwaway",
            username: "mallory@throwaway.onmicrosoft.com",
            tenant: throwawayTenant,
            roleTemplateIDs: ["62e90394-69f5-4237-9190-012177145e10"],
            roleDescription: "Global Administrator of another tenant"
        ),
    ]
}
