import CrossTenantAccess
import Foundation
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

@testable import ExchangePolicy

/// Which account the creator's tenant restrictions are asked about, whatever else the answer names.
struct CrossTenantAccessEnforcerTests {
    static let blocked = "7d3e1f20-4b5c-4a69-8e7f-90a1b2c3d4e5"

    /// Contoso's tenant restrictions toward Northwind block one account, at every application.
    static func enforcer() throws -> CrossTenantAccessEnforcer {
        let settings = try CrossTenantAccessPolicy.decode(
            from: Data(
                #"""
                {"partners": [{"tenantId": "\#(ExampleTenants.northwind)", "tenantRestrictions": {
                  "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "\#(blocked)", "targetType": "user"}]},
                  "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]}
                }}]}
                """#.utf8
            )
        )
        return CrossTenantAccessEnforcer(settings: [ExampleTenants.contoso: settings], policies: PolicySet())
    }

    /// A Northwind account `oid`, whose home is `home`, signed in through MSAL (`client_info` names its home ID).
    static func evidence(home: TenantID?, oid: String?, clientInfoUID: String) -> TokenResponseEvidence {
        var evidence = TokenResponseEvidence()
        evidence.isSuccess = true
        evidence.signInTenant = ExampleTenants.northwind
        evidence.homeTenant = home
        evidence.objectID = oid
        evidence.clientInfoHomeObjectID = clientInfoUID
        return evidence
    }

    /// Review 31: a guest whose home is a personal Microsoft account was judged by `client_info`'s `uid`, its home
    /// ID, so the Northwind account Contoso blocks got its token whenever the client asked for `client_info`.
    @Test(arguments: [TenantID.microsoftAccounts, ExampleTenants.fabrikam, nil])
    func tenantRestrictionsJudgeTheAccountInTheTenantSignedInTo(home: TenantID?) throws {
        let judge = { (evidence: TokenResponseEvidence) in
            try Self.enforcer().judge(
                creator: ExampleTenants.contoso,
                signIn: ExampleTenants.northwind,
                cloud: .global,
                evidence: evidence,
                clientID: "e002ab83-2360-4092-bd0b-5a4c52f2f15a"
            )
        }
        let blockedAccount = Self.evidence(
            home: home,
            oid: Self.blocked,
            clientInfoUID: home == nil ? Self.blocked : "home-id"
        )
        #expect(try judge(blockedAccount)?.setting == "tenantRestrictions")
        let otherAccount = Self.evidence(home: home, oid: UUID().uuidString, clientInfoUID: "home-id")
        #expect(try judge(otherAccount) == nil)
        // No `oid` (an ID token without `profile`): a member's `client_info` names its account; a guest's home ID
        // says nothing of its account in Northwind, which could be the blocked one.
        let unnamed = Self.evidence(home: home, oid: nil, clientInfoUID: UUID().uuidString)
        #expect(try (judge(unnamed) == nil) == (home == nil))
        if home == nil {
            let named = Self.evidence(home: nil, oid: nil, clientInfoUID: Self.blocked)
            #expect(try judge(named)?.setting == "tenantRestrictions")
        }
    }

    /// Review 31: a guest's token names its groups in the tenant that issued it, not in its home, so Northwind's
    /// block of a Fabrikam group at B2B collaboration inbound never applied to a Fabrikam guest.
    @Test func aGuestsHomeGroupsAreUnknown() throws {
        let northwind = try CrossTenantAccessPolicy.decode(
            from: Data(
                #"""
                {"partners": [{"tenantId": "\#(ExampleTenants.fabrikam)", "b2bCollaborationInbound": {
                  "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "g9", "targetType": "group"}]},
                  "applications": {"accessType": "allowed", "targets": [{"target": "AllApplications", "targetType": "application"}]}
                }}]}
                """#.utf8
            )
        )
        let enforcer = CrossTenantAccessEnforcer(settings: [ExampleTenants.northwind: northwind], policies: PolicySet())
        var guest = Self.evidence(home: ExampleTenants.fabrikam, oid: UUID().uuidString, clientInfoUID: "home-id")
        guest.groupIDs = ["g1"]
        let verdict = enforcer.judge(
            creator: ExampleTenants.northwind,
            signIn: ExampleTenants.northwind,
            cloud: .global,
            evidence: guest,
            clientID: nil
        )
        #expect(verdict?.setting == "b2bCollaborationInbound", "\(String(describing: verdict))")
    }
}
