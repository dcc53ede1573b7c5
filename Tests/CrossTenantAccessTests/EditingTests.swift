import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// Graph's write operations: PATCH a partner, POST a partner, DELETE a partner, and their refusals.
struct EditingTests {
    static let allowG1 = Fixtures.setting(
        users: "allowed",
        [("g1", "group")],
        applications: "allowed",
        [("AllApplications", "application")]
    )

    static func policy() throws -> CrossTenantAccessPolicy {
        try Fixtures.policy(
            #"""
            {"partners": [{"tenantId": "\#(Fixtures.fabrikam)", "isServiceProvider": true,
                           "b2bCollaborationInbound": \#(allowG1), "unmodelled": {"kept": 1}}]}
            """#
        )
    }

    @Test func patchReplacesPresentPropertiesAndNullClearsToInherit() throws {
        let patched = try Self.policy().applyingPatch(
            toPartner: Fixtures.fabrikam,
            json: Data(
                #"{"b2bCollaborationInbound": null, "isInMultiTenantOrganization": true, "tenantId": "\#(Fixtures.fabrikam.description.uppercased())"}"#
                    .utf8
            )
        )
        let partner = try #require(patched.partner(Fixtures.fabrikam))
        #expect(partner.b2bCollaborationInbound == nil)
        #expect(partner.isServiceProvider == true)
        #expect(partner.isInMultiTenantOrganization == true)
        #expect(partner.additionalProperties == ["unmodelled": .object(["kept": .integer(1)])])
        let result = patched.evaluate(Fixtures.query(user: Fixtures.outsideG1))
        #expect(result.isAllowed)
        #expect(result.configuration == .default)
        #expect(result.inherited)
    }

    @Test func patchReplacesASettingWhole() throws {
        let patched = try Self.policy().applyingPatch(
            toPartner: Fixtures.fabrikam,
            json: Data(
                #"{"b2bCollaborationInbound": {"usersAndGroups": \#(Fixtures.part("blocked", [("g1", "group")]))}}"#
                    .utf8
            )
        )
        let setting = try #require(patched.partner(Fixtures.fabrikam)?.b2bCollaborationInbound)
        #expect(setting.usersAndGroups?.accessType == .blocked)
        #expect(setting.applications == nil)
        #expect(!patched.evaluate(Fixtures.query(user: Fixtures.memberOfG1)).isAllowed)
        #expect(patched.evaluate(Fixtures.query(user: Fixtures.outsideG1)).isAllowed)
    }

    @Test func patchIsRefused() throws {
        let policy = try Self.policy()
        #expect(throws: CrossTenantAccessDocumentError.self) {
            try policy.applyingPatch(toPartner: Fixtures.northwind, json: Data("{}".utf8))
        }
        #expect {
            try policy.applyingPatch(
                toPartner: Fixtures.fabrikam,
                json: Data(#"{"tenantId": "\#(Fixtures.northwind)"}"#.utf8)
            )
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.code == .readOnlyProperty }
        #expect {
            try policy.applyingPatch(toPartner: Fixtures.fabrikam, json: Data("[1]".utf8))
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.message == "must be a JSON object" }
        #expect {
            try policy.applyingPatch(
                toPartner: Fixtures.fabrikam,
                json: Data(#"{"b2bCollaborationInbound": {"applications": {"accessType": "allowed"}}}"#.utf8)
            )
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.field == "b2bCollaborationInbound.applications.targets" }
        #expect {
            try policy.applyingPatch(toDefault: Data(#"{"inboundTrust": 3}"#.utf8))
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.field == "inboundTrust" }
    }

    @Test func addingAPartner() throws {
        let added = try Self.policy().addingPartner(
            json: Data(#"{"tenantId": "\#(Fixtures.northwind)", "b2bDirectConnectOutbound": \#(Self.allowG1)}"#.utf8)
        )
        #expect(added.partners.map(\.partnerTenant) == [Fixtures.fabrikam, Fixtures.northwind])
        let result = added.evaluate(Fixtures.query(.b2bDirectConnect, .outbound, partner: Fixtures.northwind))
        #expect(result.isAllowed)
        #expect(result.configuration == .partner(Fixtures.northwind))
        #expect(result.decidingTarget == "g1")
    }

    @Test func addingAPartnerIsRefused() throws {
        let policy = try Self.policy()
        #expect {
            try policy.addingPartner(
                json: Data(#"{"tenantId": "\#(Fixtures.fabrikam.description.uppercased())"}"#.utf8)
            )
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.code == .partnerAlreadyExists }
        #expect {
            try policy.addingPartner(json: Data(#"{"tenantId": "northwind.example"}"#.utf8))
        } throws: {
            let error = $0 as? CrossTenantAccessDocumentError
            return error?.field == "tenantId" && error?.message == "'northwind.example' is not a tenant GUID"
        }
        #expect {
            try policy.addingPartner(json: Data(#"{"isServiceProvider": true}"#.utf8))
        } throws: { ($0 as? CrossTenantAccessDocumentError)?.field == "tenantId" }
    }

    @Test func removingAPartner() throws {
        let removed = try Self.policy().removingPartner(Fixtures.fabrikam)
        #expect(removed.partners.isEmpty)
        #expect(removed.partner(Fixtures.fabrikam) == nil)
        #expect(!removed.evaluate(Fixtures.query()).inherited)
        #expect {
            try removed.removingPartner(Fixtures.fabrikam)
        } throws: {
            let error = $0 as? CrossTenantAccessDocumentError
            return error?.code == .partnerNotFound
                && error?.description == "tenant \(Fixtures.fabrikam) has no partner configuration"
        }
    }

    @Test func editsLeaveTheOriginalIntact() throws {
        let policy = try Self.policy()
        _ = try policy.removingPartner(Fixtures.fabrikam)
        _ = try policy.applyingPatch(toDefault: Data(#"{"b2bCollaborationInbound": null}"#.utf8))
        #expect(try policy == Self.policy())
    }
}
