import CrossTenantAccess
import Foundation
import PolicyFiles
import TenantPolicy
import TestSupport
import Testing

/// Cross-tenant access settings in policy files: the YAML's `crossTenantAccess:` and Graph JSON files.
struct CrossTenantAccessFileTests {
    static let contoso = ExampleTenants.contoso.description
    static let fabrikam = ExampleTenants.fabrikam.description
    static let northwind = ExampleTenants.northwind.description

    static func load(_ files: [(String, String)]) -> Result<PolicyBundle, PolicyValidationError> {
        PolicyDirectoryLoader.load(files: files.map { .init(name: $0.0, contents: $0.1) })
    }

    static let yaml = """
        tenantId: \(contoso)
        displayName: Contoso
        isolation:
          enabled: false
        crossTenantAccess:
          allowedCloudEndpoints: [microsoftonline.us]
          default:
            b2bCollaborationInbound:
              usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}
              applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}
          partners:
            - tenantId: \(fabrikam)
              isServiceProvider: false
              b2bCollaborationInbound:
                usersAndGroups:
                  accessType: allowed
                  targets:
                    - {target: "11111111-2222-3333-4444-555555555555", targetType: group}
                applications: {accessType: allowed, targets: [{target: AllApplications, targetType: application}]}
        """

    @Test func yamlSectionIsDecodedAndEvaluated() throws {
        let bundle = try Self.load([("contoso.yaml", Self.yaml)]).get()
        let settings = try #require(bundle.crossTenantAccess[TenantID(Self.contoso)!])
        #expect(settings.allowedCloudEndpoints == ["microsoftonline.us"])
        #expect(settings.default.isServiceDefault == false)
        #expect(bundle.crossTenantAccessSources[TenantID(Self.contoso)!] == "contoso.yaml")

        let member = UserIdentity(id: "u1", groupIDs: ["11111111-2222-3333-4444-555555555555"])
        let asked = { (partner: String, user: UserIdentity, direction: Direction) in
            settings.evaluate(
                .init(
                    kind: .b2bCollaboration,
                    direction: direction,
                    partner: TenantID(partner)!,
                    user: user,
                    application: "a1"
                )
            )
        }
        #expect(asked(Self.fabrikam, member, .inbound).isAllowed)
        #expect(!asked(Self.fabrikam, UserIdentity(id: "u2"), .inbound).isAllowed)
        // Northwind is no partner: the default blocks everyone.
        #expect(!asked(Self.northwind, member, .inbound).configuration.description.hasPrefix("partner"))
        #expect(!asked(Self.northwind, member, .inbound).isAllowed)
        // The partner leaves outbound null: it inherits the service default's (allowed) outbound.
        let outbound = asked(Self.fabrikam, member, .outbound)
        #expect(outbound.isAllowed && outbound.inherited)
    }

    @Test func graphJSONFileBesideThePowerPlatformShape() throws {
        let graph = """
            {
              "tenantId": "\(Self.contoso)",
              "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/crossTenantAccessPolicy",
              "displayName": "CrossTenantAccessPolicy",
              "allowedCloudEndpoints": [],
              "default": {"isServiceDefault": true},
              "partners": [{"tenantId": "\(Self.fabrikam)", "tenantRestrictions": {
                "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]}
              }}]
            }
            """
        let powerPlatform = """
            {"properties": {"tenantId": "\(Self.contoso)", "isDisabled": false, "allowedTenants": []}}
            """
        let bundle = try Self.load([("contoso-isolation.json", powerPlatform), ("contoso-xtap.json", graph)]).get()
        let settings = try #require(bundle.crossTenantAccess[TenantID(Self.contoso)!])
        #expect(settings.additionalProperties["@odata.context"] != nil)
        #expect(settings.additionalProperties["tenantId"] == nil)
        let restricted = settings.evaluate(
            .init(
                kind: .tenantRestrictions,
                direction: .outbound,
                partner: TenantID(Self.fabrikam)!,
                user: nil,
                application: nil
            )
        )
        #expect(!restricted.isAllowed)
        #expect(bundle.isolation.tenant(TenantID(Self.contoso)!)?.isolation.isEnabled == true)
    }

    @Test func errorsNameFileFieldAndLine() throws {
        let broken = """
            tenantId: \(Self.contoso)
            crossTenantAccess:
              allowedCloudEndpoints: [microsoftonline.de]
              partners:
                - tenantId: not-a-guid
                - tenantId: \(Self.fabrikam)
                  b2bCollaborationOutbound:
                    usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}
                    applications: {accessType: allowed, targets: [{target: AllApplications, targetType: application}]}
                - tenantId: \(Self.fabrikam)
            """
        let error = try #require(Self.load([("contoso.yaml", broken)]).failureValue)
        let messages = error.errors.map(\.description)
        #expect(messages.contains { $0.hasPrefix("contoso.yaml:3: crossTenantAccess.allowedCloudEndpoints[0]:") })
        #expect(messages.contains { $0.hasPrefix("contoso.yaml:5: crossTenantAccess.partners[0].tenantId:") })
        #expect(messages.contains { $0.contains("crossTenantAccess.partners[1].b2bCollaborationOutbound") })
        #expect(messages.contains { $0.contains("partners[2].tenantId") && $0.contains("already has a partner") })
    }

    @Test func seedsLeadingSpaceIsOnlyAWarning() throws {
        let yaml = """
            tenantId: \(Self.contoso)
            crossTenantAccess:
              partners:
                - tenantId: \(Self.fabrikam)
                  b2bCollaborationInbound:
                    usersAndGroups: {accessType: " blocked", targets: [{target: g1, targetType: group}]}
                    applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}
            """
        let bundle = try Self.load([("contoso.yaml", yaml)]).get()
        #expect(bundle.warnings.contains { $0.field.hasSuffix("usersAndGroups.accessType") && $0.line == 6 })
    }

    @Test func typeErrorsAndMissingTenant() throws {
        let wrongType = "tenantId: \(Self.contoso)\ncrossTenantAccess:\n  partners: {tenantId: x}\n"
        let typeError = try #require(Self.load([("a.yaml", wrongType)]).failureValue)
        #expect(typeError.errors.contains { $0.field == "crossTenantAccess.partners" && $0.line == 3 })

        let noTenant = #"{"default": {"isServiceDefault": true}, "partners": []}"#
        let missing = try #require(Self.load([("x.json", noTenant)]).failureValue)
        #expect(missing.errors.contains { $0.field == "tenantId" && $0.message.contains("missing") })
    }

    @Test func twoPlacesForOneTenantAreRefused() throws {
        let graph = #"{"tenantId": "\#(Self.contoso)", "partners": []}"#
        let error = try #require(Self.load([("contoso.yaml", Self.yaml), ("xtap.json", graph)]).failureValue)
        #expect(error.errors.contains { $0.message.contains("already in contoso.yaml") })
    }

    /// A YAML 1.1 base-60 integer past Int (`1:0:…`), where the model wants text: Yams's reading of it trapped, in
    /// a file or a row of the policy store. It stays text, and the document is refused for its wrong value.
    @Test func aBase60IntegerPastIntIsTextNotATrap() throws {
        let yaml = """
            tenantId: \(Self.contoso)
            crossTenantAccess:
              displayName: 1:0:0:0:0:0:0:0:0:0:0
              partners:
                - tenantId: 1:0:0:0:0:0:0:0:0:0:0
            """
        let error = try #require(Self.load([("c.yaml", yaml)]).failureValue)
        #expect(error.errors.contains { $0.field == "crossTenantAccess.partners[0].tenantId" }, "\(error.errors)")
    }

    /// Nine lines of nested aliases stand for 9^9 values (a "billion laughs"): reading them took a check 30 s and
    /// 5 GB before it was stopped. Refused at once, in a policy file as in the `--config` file; an alias that
    /// repeats a little (fewer values than the file has bytes) still reads.
    @Test(.timeLimit(.minutes(1))) func aliasesThatStandForMoreThanTheFileHoldsAreRefused() throws {
        var laughs = #"a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]"# + "\n"
        for level in 1...8 {
            let previous = "*a\(level - 1)"
            laughs += "a\(level): &a\(level) [\(Array(repeating: previous, count: 9).joined(separator: ","))]\n"
        }
        let yaml = laughs + "tenantId: \(Self.contoso)\ncrossTenantAccess:\n  partners: *a8\n"
        let error = try #require(Self.load([("laughs.yaml", yaml)]).failureValue)
        #expect(error.errors.contains { $0.message.contains("stand for more values than the file holds") })
        let modest = """
            tenantId: \(Self.contoso)
            crossTenantAccess:
              partners:
                - tenantId: \(Self.fabrikam)
                  b2bCollaborationInbound: &blocked
                    usersAndGroups: {accessType: blocked, targets: [{target: AllUsers, targetType: user}]}
                    applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}
                  b2bCollaborationOutbound: *blocked
            """
        #expect(try Self.load([("modest.yaml", modest)]).get().crossTenantAccess[TenantID(Self.contoso)!] != nil)
    }

    @Test func quotedScalarsStayText() throws {
        let yaml = """
            tenantId: \(Self.contoso)
            crossTenantAccess:
              displayName: "true"
              partners:
                - tenantId: \(Self.fabrikam)
                  isServiceProvider: true
            """
        let settings = try #require(try Self.load([("c.yaml", yaml)]).get().crossTenantAccess[TenantID(Self.contoso)!])
        #expect(settings.displayName == "true")
        #expect(settings.partners.first?.isServiceProvider == true)
    }
}

extension Result {
    var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
