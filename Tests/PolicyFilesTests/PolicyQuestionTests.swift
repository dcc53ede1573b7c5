import CrossTenantAccess
import PolicyFiles
import TenantPolicy
import TestSupport
import Testing

/// The questions `tenantgate check` and the console's What-if ask, answered as the proxy decides.
struct PolicyQuestionTests {
    static func examples(_ directory: String) throws -> PolicyBundle {
        try PolicyDirectoryLoader.load(directory: "\(PolicyValidationTests.repository)/\(directory)").get()
    }

    /// An unknown sign-in tenant could be any tenant: review 28 found `check` answering allowed for a Fabrikam
    /// creator while the proxy refused such an answer, because Contoso's (and Adatum's) inbound isolation does not
    /// admit Fabrikam.
    @Test func anUnknownSignInIsRefusedWhereSomeTenantsIsolationWouldRefuseIt() throws {
        let bundle = try Self.examples("policies")
        let fabrikam = PolicyQuestion.isolation(creator: ExampleTenants.fabrikam, signIn: nil, in: bundle)
        #expect(!fabrikam.isAllowed)
        #expect(fabrikam.blockedDirections == [.inbound])
        #expect(fabrikam.explanation.contains("could be Adatum"), "\(fabrikam.explanation)")
        // Contoso's own isolation refuses an unknown tenant (SPEC 2.1 rule 5), outbound.
        let contoso = PolicyQuestion.isolation(creator: ExampleTenants.contoso, signIn: nil, in: bundle)
        #expect(!contoso.isAllowed && contoso.blockedDirections == [.outbound])
        // Northwind, not governed: Contoso's and Adatum's inbound isolation refuse it too.
        let northwind = PolicyQuestion.isolation(creator: ExampleTenants.northwind, signIn: nil, in: bundle)
        #expect(!northwind.isAllowed && northwind.blockedDirections == [.inbound])
    }

    /// Review 31: with `policies/cross-tenant-access` (Contoso's isolation Off, its tenant restrictions refusing
    /// every tenant but its partners), `check --sign-in unknown` answered allowed where the proxy refused.
    @Test func anUnknownSignInMeetsTheCreatorsTenantRestrictions() throws {
        let bundle = try Self.examples("policies/cross-tenant-access")
        let contoso = PolicyQuestion.isolation(creator: ExampleTenants.contoso, signIn: nil, in: bundle)
        #expect(!contoso.isAllowed)
        #expect(contoso.setting == "tenantRestrictions")
        #expect(contoso.explanation.contains("a tenant that is not among its partners"), "\(contoso.explanation)")
        #expect(
            PolicyQuestion.isolation(creator: ExampleTenants.contoso, signIn: ExampleTenants.fabrikam, in: bundle)
                .isAllowed
        )
    }

    /// A mapped destination meets the creator's tenant restrictions as at the proxy, with no user or application
    /// known (review 31): Contoso's refuse Northwind's accounts, and admit Fabrikam's.
    @Test func aMappedDestinationMeetsTheCreatorsTenantRestrictions() throws {
        let bundle = try Self.examples("policies/cross-tenant-access")
        let northwind = PolicyQuestion.mappedDestination(
            creator: ExampleTenants.contoso,
            tenant: ExampleTenants.northwind,
            in: bundle
        )
        #expect(!northwind.isAllowed && northwind.setting == "tenantRestrictions", "\(northwind.explanation)")
        let fabrikam = PolicyQuestion.mappedDestination(
            creator: ExampleTenants.contoso,
            tenant: ExampleTenants.fabrikam,
            in: bundle
        )
        #expect(fabrikam.isAllowed, "\(fabrikam.explanation)")
    }

    /// Tenant restrictions refuse the tenant's own users signing in elsewhere: outbound, whichever direction is
    /// asked, as the proxy's refusal (error 5000211) names it (review 53 F4: `check` answered blocked with none).
    @Test(arguments: [Direction.inbound, .outbound])
    func tenantRestrictionsBlockOutbound(asked: Direction) throws {
        let bundle = try Self.examples("policies/cross-tenant-access")
        let query = CrossTenantAccessQuery(
            kind: .tenantRestrictions,
            direction: asked,
            partner: ExampleTenants.northwind,
            user: nil,
            application: nil
        )
        let answer = PolicyQuestion.crossTenantAccess(query, tenant: ExampleTenants.contoso, in: bundle, source: "test")
        #expect(!answer.isAllowed && answer.blockedDirections == [.outbound], "\(answer.explanation)")
    }
}
