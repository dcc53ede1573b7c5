/// Microsoft's own application IDs, for the reserved targets `Office365` and `AllMicrosoftApps`.
///
/// Graph resolves these keywords against Microsoft's full, changing first-party catalogue, which is not
/// published; this is a small known list and therefore an approximation: an application missing here does not
/// match either keyword. IDs are lowercase.
enum MicrosoftFirstPartyApplications {
    /// The Office 365 suite: Exchange Online, SharePoint Online, Skype for Business Online, Microsoft Teams,
    /// Microsoft Office (desktop and mobile clients), Office Home.
    static let office365: Set<String> = [
        "00000002-0000-0ff1-ce00-000000000000",
        "00000003-0000-0ff1-ce00-000000000000",
        "00000004-0000-0ff1-ce00-000000000000",
        "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
        "d3590ed6-52b3-4102-aeff-aad2292ab01c",
        "4765445b-32c6-49b0-83e6-1d93765276ca",
    ]

    /// Office 365 plus Microsoft Graph, Azure Resource Manager, the Azure portal, Azure CLI, Azure PowerShell,
    /// Azure DevOps, Power BI, Dynamics 365 (CRM) and Azure Rights Management (Office Message Encryption).
    static let all: Set<String> = office365.union([
        "00000003-0000-0000-c000-000000000000",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
        "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "1950a258-227b-4e31-a9cf-717495945fc2",
        "499b84ac-1321-427f-aa17-267ca6975798",
        "00000009-0000-0000-c000-000000000000",
        "00000007-0000-0000-c000-000000000000",
        "00000012-0000-0000-c000-000000000000",
    ])
}
