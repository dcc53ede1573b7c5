import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// Null partner properties inherit the default's; a B2B setting with only one part inherits the other (SPEC 2.2).
struct InheritanceTests {
    static let blockG1 = Fixtures.part("blocked", [("g1", "group")])

    /// Fabrikam sets only b2bCollaborationInbound.usersAndGroups (blocks g1); the default blocks all direct connect.
    static func policy() throws -> CrossTenantAccessPolicy {
        try Fixtures.policy(
            """
            {"partners": [{"tenantId": "\(Fixtures.fabrikam)", "isServiceProvider": null, "inboundTrust": null,
              "b2bCollaborationInbound": {"usersAndGroups": \(blockG1)}, "b2bCollaborationOutbound": null}]}
            """
        )
    }

    @Test func nullSettingComesFromTheDefault() throws {
        let result = try Self.policy().evaluate(Fixtures.query(.b2bDirectConnect, .outbound))
        #expect(!result.isAllowed)
        #expect(result.configuration == .default)
        #expect(result.inherited)
        #expect(result.decidingTarget == "AllUsers")
        #expect(
            result.explanation
                == "Blocked by b2bDirectConnectOutbound of the default configuration, which partner "
                + "\(Fixtures.fabrikam) inherits: both usersAndGroups and applications are blocked, which blocks only "
                + "a matching user at a matching application, and user u1 matches 'AllUsers' and application a1 "
                + "matches 'AllApplications'."
        )
    }

    @Test func missingApplicationsPartComesFromTheDefault() throws {
        let policy = try Self.policy()
        let blocked = policy.evaluate(Fixtures.query(.b2bCollaboration, .inbound, user: Fixtures.memberOfG1))
        #expect(!blocked.isAllowed)
        #expect(blocked.configuration == .partner(Fixtures.fabrikam))
        #expect(blocked.inherited)
        #expect(blocked.decidingTarget == "g1")
        #expect(
            blocked.explanation
                == "Blocked by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam) "
                + "(applications from the default): user u1 matches the blocked target 'g1' of usersAndGroups."
        )
        let allowed = policy.evaluate(Fixtures.query(.b2bCollaboration, .inbound, user: Fixtures.outsideG1))
        #expect(allowed.isAllowed)
        #expect(allowed.decidingTarget == "AllApplications")
    }

    @Test func tenantThatIsNoPartnerUsesTheDefaultUninherited() throws {
        let result = try Self.policy().evaluate(Fixtures.query(partner: Fixtures.northwind))
        #expect(result.isAllowed)
        #expect(result.configuration == .default)
        #expect(!result.inherited)
    }

    @Test func effectiveSettingsResolveEveryNull() throws {
        let effective = try Self.policy().effectiveSettings(for: Fixtures.fabrikam)
        #expect(effective.isPartner)
        #expect(
            effective.inheritedProperties == [
                "isServiceProvider", "isInMultiTenantOrganization", "inboundTrust",
                "b2bCollaborationInbound.applications", "b2bCollaborationOutbound", "b2bDirectConnectInbound",
                "b2bDirectConnectOutbound", "automaticUserConsentSettings", "tenantRestrictions",
            ]
        )
        let configuration = effective.configuration
        #expect(configuration.tenantId == Fixtures.fabrikam.description)
        #expect(configuration.isServiceProvider == false)
        #expect(configuration.inboundTrust == .nothingTrusted)
        #expect(configuration.b2bCollaborationInbound?.usersAndGroups?.accessType == .blocked)
        #expect(
            configuration.b2bCollaborationInbound?.applications
                == CrossTenantAccessPolicyTargetConfiguration(accessType: .allowed, targets: [.allApplications])
        )
        #expect(configuration.b2bDirectConnectOutbound == .everyone(.blocked))
        #expect(configuration.tenantRestrictions == nil)

        let printed = try CrossTenantAccessPolicyConfigurationPartner.decode(from: effective.encoded(pretty: true))
        #expect(printed == configuration)
    }

    @Test func effectiveSettingsForATenantThatIsNoPartnerAreTheDefault() throws {
        let effective = try Self.policy().effectiveSettings(for: Fixtures.northwind)
        #expect(!effective.isPartner)
        #expect(effective.configuration.tenantId == Fixtures.northwind.description)
        #expect(effective.configuration.b2bCollaborationInbound == .everyone(.allowed))
        #expect(effective.inheritedProperties.contains("b2bCollaborationInbound"))
    }
}
