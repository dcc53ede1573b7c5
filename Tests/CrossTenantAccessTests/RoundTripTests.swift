import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// A Graph document survives decode and encode unchanged, unknown properties included at every level; decoding
/// errors name the field path.
struct RoundTripTests {
    /// A complete document as Graph returns it with `$expand`, plus properties TenantGate does not model in the
    /// policy, the default, a partner, a setting, a target configuration, a target and identity synchronization.
    static let document = #"""
        {
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy",
          "id": "3b1d2c4e-0000-0000-0000-000000000001",
          "displayName": "CrossTenantAccessPolicy",
          "allowedCloudEndpoints": ["microsoftonline.us", "partner.microsoftonline.cn"],
          "templates": {"multiTenantOrganizationPartnerConfiguration": {"templateApplicationLevel": "newPartners"}},
          "default": {
            "id": "a1b2c3d4-0000-0000-0000-000000000002",
            "isServiceDefault": false,
            "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": false,
                             "isHybridAzureADJoinedDeviceAccepted": false},
            "b2bCollaborationInbound": {
              "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
              "applications": {"accessType": "allowed",
                               "targets": [{"target": "AllApplications", "targetType": "application"}]}},
            "b2bCollaborationOutbound": {
              "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
              "applications": {"accessType": "allowed",
                               "targets": [{"target": "AllApplications", "targetType": "application"}]}},
            "b2bDirectConnectInbound": {
              "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
              "applications": {"accessType": "blocked",
                               "targets": [{"target": "AllApplications", "targetType": "application"}]}},
            "b2bDirectConnectOutbound": {
              "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
              "applications": {"accessType": "blocked",
                               "targets": [{"target": "AllApplications", "targetType": "application"}]}},
            "automaticUserConsentSettings": {"inboundAllowed": false, "outboundAllowed": false},
            "tenantRestrictions": {
              "devices": {"mode": "allowed", "rule": "device.isCompliant -eq True"},
              "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
              "applications": {"accessType": "blocked",
                               "targets": [{"target": "AllApplications", "targetType": "application"}]}},
            "invitationRedemptionIdentityProviderConfiguration": {
              "primaryIdentityProviderPrecedenceOrder": ["externalFederation", "azureActiveDirectory"],
              "fallbackIdentityProvider": "defaultConfiguredIdp"}
          },
          "partners": [
            {
              "tenantId": "0da59725-89fe-4a2f-bf22-fd4536c9baac",
              "isServiceProvider": true,
              "isInMultiTenantOrganization": false,
              "blockServiceProviderOutboundAccess": null,
              "deletedDateTime": "2026-01-02T03:04:05Z",
              "inboundTrust": null,
              "b2bCollaborationInbound": {
                "usersAndGroups": {"accessType": "allowed", "priority": 7,
                                   "targets": [{"target": "g1", "targetType": "group", "displayName": "Group One",
                                                "weight": 1.5, "tags": [true, null, "x"]}]},
                "applications": null,
                "m365Extras": {"nested": {"deeper": [1, 2, 3]}}},
              "b2bCollaborationOutbound": null,
              "b2bDirectConnectInbound": null,
              "b2bDirectConnectOutbound": null,
              "automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": null},
              "tenantRestrictions": null,
              "identitySynchronization": {
                "displayName": "Fabrikam sync",
                "tenantId": "0da59725-89fe-4a2f-bf22-fd4536c9baac",
                "userSyncInbound": {"isSyncAllowed": true, "scope": "all"},
                "@odata.type": "#microsoft.graph.crossTenantIdentitySyncPolicyPartner"}
            }
          ]
        }
        """#

    @Test func everyPropertySurvives() throws {
        let policy = try CrossTenantAccessPolicy.decode(from: Data(Self.document.utf8))
        let original = try JSONDecoder().decode(JSONValue.self, from: Data(Self.document.utf8))
        for pretty in [false, true] {
            let encoded = try policy.encoded(pretty: pretty)
            #expect(try JSONDecoder().decode(JSONValue.self, from: encoded) == original)
            #expect(try CrossTenantAccessPolicy.decode(from: encoded) == policy)
        }
    }

    @Test func unknownPropertiesAreKeptWhereTheyWere() throws {
        let policy = try CrossTenantAccessPolicy.decode(from: Data(Self.document.utf8))
        #expect(policy.additionalProperties["id"] == .string("3b1d2c4e-0000-0000-0000-000000000001"))
        #expect(policy.default.additionalProperties["invitationRedemptionIdentityProviderConfiguration"] != nil)
        #expect(policy.default.tenantRestrictions?.additionalProperties["devices"] != nil)
        let partner = try #require(policy.partner(Fixtures.fabrikam))
        #expect(partner.additionalProperties["blockServiceProviderOutboundAccess"] == .null)
        let users = try #require(partner.b2bCollaborationInbound?.usersAndGroups)
        #expect(users.additionalProperties == ["priority": .integer(7)])
        #expect(
            users.targets[0].additionalProperties == [
                "displayName": .string("Group One"), "weight": .number(1.5),
                "tags": .array([.bool(true), .null, .string("x")]),
            ]
        )
        #expect(partner.identitySynchronization?.isSyncAllowed == true)
        #expect(partner.identitySynchronization?.userSyncInboundAdditionalProperties == ["scope": .string("all")])
    }

    @Test func singleDocumentsRoundTrip() throws {
        let policy = try CrossTenantAccessPolicy.decode(from: Data(Self.document.utf8))
        let partner = try #require(policy.partners.first)
        #expect(try CrossTenantAccessPolicyConfigurationPartner.decode(from: partner.encoded(pretty: false)) == partner)
        #expect(
            try CrossTenantAccessPolicyConfigurationDefault.decode(from: policy.default.encoded(pretty: true))
                == policy.default
        )
    }

    struct BadDocument: Sendable, CustomTestStringConvertible {
        let json: String
        let field: String
        let message: String
        var testDescription: String { field.isEmpty ? "whole document" : field }
    }

    static let badDocuments: [BadDocument] = [
        BadDocument(
            json:
                #"{"partners": [{"tenantId": "\#(Fixtures.fabrikam)"}, {"tenantId": "\#(Fixtures.northwind)", "b2bCollaborationInbound": {"usersAndGroups": {"accessType": "allowed"}}}]}"#,
            field: "partners[1].b2bCollaborationInbound.usersAndGroups.targets",
            message: "is required but missing"
        ),
        BadDocument(
            json: #"{"default": {"b2bDirectConnectOutbound": {"applications": {"accessType": 5, "targets": []}}}}"#,
            field: "default.b2bDirectConnectOutbound.applications.accessType",
            message: "expected a string"
        ),
        BadDocument(
            json: #"{"partners": [{"tenantId": "\#(Fixtures.fabrikam)", "isServiceProvider": "yes"}]}"#,
            field: "partners[0].isServiceProvider",
            message: "expected true or false"
        ),
        BadDocument(json: #"{"partners": {"tenantId": "x"}}"#, field: "partners", message: "expected an array"),
        BadDocument(json: #"{"partners": [{}]}"#, field: "partners[0].tenantId", message: "is required but missing"),
        BadDocument(json: #"{"default": "#, field: "", message: "is not valid JSON"),
        // A known property misspelled is refused, not kept unenforced (review 45 F2).
        BadDocument(
            json: #"{"default": {"tenantRestriction": {}}}"#,
            field: "default.tenantRestriction",
            message: "'tenantRestriction' is not a property of this object: did you mean 'tenantRestrictions'?"
        ),
        BadDocument(
            json: #"{"partners": [{"tenantId": "\#(Fixtures.fabrikam)", "b2bCollaborationInbund": {}}]}"#,
            field: "partners[0].b2bCollaborationInbund",
            message: "'b2bCollaborationInbund' is not a property of this object: did you mean 'b2bCollaborationIn"
        ),
        BadDocument(
            json: #"{"default": {"B2BCollaborationOutbound": {}}}"#,
            field: "default.B2BCollaborationOutbound",
            message: "'B2BCollaborationOutbound' is not a property of this object: did you mean 'b2bCollaborationO"
        ),
    ]

    @Test(arguments: badDocuments)
    func decodingErrorNamesTheField(_ bad: BadDocument) {
        #expect {
            try CrossTenantAccessPolicy.decode(from: Data(bad.json.utf8))
        } throws: { error in
            guard let error = error as? CrossTenantAccessDocumentError else { return false }
            return error.code == .invalidDocument && error.field == bad.field && error.message.hasPrefix(bad.message)
        }
    }
}
