import TenantPolicy
import TestSupport
import Testing

@testable import AdminConsole

/// What if answers for a request to a resource the directory maps (SPEC 4.2): the tenant of an Azure DevOps
/// organisation or of a resource host, however the administrator writes it.
struct WhatIfResourceTests {
    static let directory: TenantDirectory = {
        var directory = TenantDirectory()
        directory.register(azureDevOpsOrganization: "NorthwindOrg", for: ExampleTenants.northwind)
        directory.register(resourceHost: .exact("contoso.sharepoint.com"), for: ExampleTenants.contoso)
        directory.register(resourceHost: .subdomains(of: "sharepoint.com"), for: ExampleTenants.fabrikam)
        return directory
    }()

    @Test(arguments: [
        ("https://dev.azure.com/northwindorg/_apis/projects", "Azure DevOps organisation northwindorg"),
        ("dev.azure.com/NorthwindOrg", "Azure DevOps organisation northwindorg"),
        ("NorthwindOrg.visualstudio.com", "Azure DevOps organisation northwindorg"),
    ])
    func anAzureDevOpsOrganisationIsItsTenant(text: String, via: String) throws {
        let found = try #require(AdminConsole.resourceTenant(text, in: Self.directory))
        #expect(found.tenant == ExampleTenants.northwind)
        #expect(found.via == via)
    }

    @Test func aResourceHostIsItsTenantTheMostSpecificNameWinning() throws {
        #expect(
            AdminConsole.resourceTenant("https://contoso.sharepoint.com/sites/x", in: Self.directory)?.tenant
                == ExampleTenants.contoso
        )
        #expect(
            AdminConsole.resourceTenant("northwind.sharepoint.com", in: Self.directory)?.tenant
                == ExampleTenants.fabrikam
        )
        #expect(AdminConsole.resourceTenant("dev.azure.com/unmapped", in: Self.directory) == nil)
        #expect(AdminConsole.resourceTenant("graph.microsoft.com", in: Self.directory) == nil)
        #expect(AdminConsole.resourceTenant("contoso", in: Self.directory) == nil)
    }
}
