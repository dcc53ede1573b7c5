import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// The service default exactly as SPEC 2.2 gives it, `isServiceDefault` turning false on a change, and the reset.
struct ServiceDefaultTests {
    @Test func values() {
        let service = CrossTenantAccessPolicyConfigurationDefault.serviceDefault
        #expect(service.isServiceDefault)
        #expect(service.b2bCollaborationInbound == .everyone(.allowed))
        #expect(service.b2bCollaborationOutbound == .everyone(.allowed))
        #expect(service.b2bDirectConnectInbound == .everyone(.blocked))
        #expect(service.b2bDirectConnectOutbound == .everyone(.blocked))
        #expect(
            service.b2bCollaborationInbound.usersAndGroups?.targets
                == [CrossTenantAccessPolicyTarget(target: "AllUsers", targetType: .user)]
        )
        #expect(
            service.b2bCollaborationInbound.applications?.targets
                == [CrossTenantAccessPolicyTarget(target: "AllApplications", targetType: .application)]
        )
        #expect(service.inboundTrust.isMfaAccepted == false)
        #expect(service.inboundTrust.isCompliantDeviceAccepted == false)
        #expect(service.inboundTrust.isHybridAzureADJoinedDeviceAccepted == false)
        #expect(service.automaticUserConsentSettings == .neither)
        #expect(service.tenantRestrictions == nil)
    }

    @Test(arguments: [
        (CrossTenantAccessKind.b2bCollaboration, Direction.inbound, true),
        (.b2bCollaboration, .outbound, true),
        (.b2bDirectConnect, .inbound, false),
        (.b2bDirectConnect, .outbound, false),
        (.tenantRestrictions, .outbound, true),
    ])
    func evaluation(kind: CrossTenantAccessKind, direction: Direction, allowed: Bool) {
        let result = CrossTenantAccessPolicy().evaluate(
            Fixtures.query(kind, direction, user: nil, application: nil)
        )
        #expect(result.isAllowed == allowed, "\(result.explanation)")
        #expect(result.configuration == .default)
        #expect(!result.inherited)
    }

    @Test func tenantRestrictionsConfiguredNowhereAdmitEveryone() {
        let result = CrossTenantAccessPolicy().evaluate(Fixtures.query(.tenantRestrictions, .inbound))
        #expect(result.isAllowed)
        #expect(result.decidingTarget == nil)
        #expect(
            result.explanation
                == "Allowed by tenantRestrictions of the default configuration: no tenantRestrictions are "
                + "configured, so every user and application is admitted."
        )
    }

    @Test func documentPrintsAsGraphDoes() throws {
        let printed = try JSONDecoder().decode(
            JSONValue.self,
            from: CrossTenantAccessPolicyConfigurationDefault.serviceDefault.encoded(pretty: true)
        )
        let everyone: (String) -> JSONValue = { accessType in
            .object([
                "usersAndGroups": .object([
                    "accessType": .string(accessType),
                    "targets": .array([.object(["target": .string("AllUsers"), "targetType": .string("user")])]),
                ]),
                "applications": .object([
                    "accessType": .string(accessType),
                    "targets": .array([
                        .object(["target": .string("AllApplications"), "targetType": .string("application")])
                    ]),
                ]),
            ])
        }
        #expect(
            printed
                == .object([
                    "isServiceDefault": .bool(true),
                    "inboundTrust": .object([
                        "isMfaAccepted": .bool(false), "isCompliantDeviceAccepted": .bool(false),
                        "isHybridAzureADJoinedDeviceAccepted": .bool(false),
                    ]),
                    "b2bCollaborationInbound": everyone("allowed"),
                    "b2bCollaborationOutbound": everyone("allowed"),
                    "b2bDirectConnectInbound": everyone("blocked"),
                    "b2bDirectConnectOutbound": everyone("blocked"),
                    "automaticUserConsentSettings": .object([
                        "inboundAllowed": .bool(false), "outboundAllowed": .bool(false),
                    ]),
                    "tenantRestrictions": .null,
                ])
        )
    }

    @Test func patchTurnsIsServiceDefaultFalseAndResetRestoresIt() throws {
        let original = try Fixtures.policy(#"{"default": {"id": "policy-1", "isServiceDefault": true}}"#)
        #expect(original.default.isServiceDefault)
        let blockAll = Fixtures.setting(
            users: "blocked",
            [("AllUsers", "user")],
            applications: "blocked",
            [("AllApplications", "application")]
        )
        let patched = try original.applyingPatch(toDefault: Data(#"{"b2bCollaborationInbound": \#(blockAll)}"#.utf8))
        #expect(!patched.default.isServiceDefault)
        #expect(!patched.evaluate(Fixtures.query()).isAllowed)
        #expect(patched.default.b2bCollaborationOutbound == .everyone(.allowed))

        let reset = patched.resetDefaultToSystemDefault()
        #expect(reset.default.isServiceDefault)
        #expect(reset.default.hasSameSettings(as: .serviceDefault))
        #expect(reset.default.additionalProperties == ["id": .string("policy-1")])
        #expect(reset.evaluate(Fixtures.query()).isAllowed)
    }

    @Test func patchWithNullRestoresTheServiceDefaultValue() throws {
        let blockAll = Fixtures.setting(
            users: "blocked",
            [("AllUsers", "user")],
            applications: "blocked",
            [("AllApplications", "application")]
        )
        let patched = try CrossTenantAccessPolicy()
            .applyingPatch(toDefault: Data(#"{"b2bCollaborationOutbound": \#(blockAll)}"#.utf8))
            .applyingPatch(toDefault: Data(#"{"b2bCollaborationOutbound": null, "isServiceDefault": true}"#.utf8))
        #expect(patched.default.b2bCollaborationOutbound == .everyone(.allowed))
        #expect(!patched.default.isServiceDefault)
    }

    @Test func patchThatChangesNothingKeepsIsServiceDefault() throws {
        let patched = try CrossTenantAccessPolicy().applyingPatch(
            toDefault: Data(
                #"{"inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false}}"#
                    .utf8
            )
        )
        #expect(patched.default.isServiceDefault)
    }

    @Test func pastedDefaultWithoutTheFlagIsComparedWithTheServiceDefault() throws {
        #expect(try Fixtures.policy(#"{"default": {}}"#).default.isServiceDefault)
        let trusting = try Fixtures.policy(#"{"default": {"inboundTrust": {"isMfaAccepted": true}}}"#)
        #expect(!trusting.default.isServiceDefault)
    }
}
