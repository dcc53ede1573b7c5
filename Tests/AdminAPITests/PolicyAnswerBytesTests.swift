import AdminAPI
import Audit
import Foundation
import Hummingbird
import HummingbirdTesting
import PolicyFiles
import TenantPolicy
import TestSupport
import Testing

/// The policy endpoints' answers and audit lines, byte for byte as clients and log readers have always received
/// them: key order, escaping, header names and all. Only what is drawn anew for each answer (a Graph error's date
/// and request ID, an audit line's time and correlation ID) is masked, after its format is checked.
struct PolicyAnswerBytesTests {
    static let contoso = ExampleTenants.contoso
    static let adatum = ExampleTenants.adatum
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind
    static let graphPath = "/v1.0/policies/crossTenantAccessPolicy"

    @Test func theRulesAnswerAndAChangedRule() async throws {
        try await PolicyAPIHarness.run { api in
            let rules = try await api.call(.get, PolicyAPIHarness.isolationPath + "/rules")
            #expect(rules.status == .ok)
            #expect(
                rules.text
                    == #"{"isEnabled":true,"value":[{"direction":"inbound","tenantId":"*"},{"direction":"both","#
                    + #""domain":"fabrikam.onmicrosoft.com","tenantDisplayName":"Fabrikam / EU","tenantId":"#
                    + #""\#(Self.fabrikam)"},{"direction":"outbound","tenantDisplayName":"Adatum \"HQ\"","tenantId":"#
                    + #""\#(Self.adatum)"}]}"#
            )
            #expect(
                rules.fields == [
                    "content-type: application/json; charset=utf-8", #"etag: "06205d0e642d19ef""#,
                    "Content-Length: 321",
                ]
            )

            // A `tenant` that is not a string falls back to `tenantId`, as it always did.
            let added = try await api.call(
                .post,
                PolicyAPIHarness.isolationPath + "/rules",
                body: #"{"tenant": 5, "tenantId": "northwind.onmicrosoft.com", "direction": "inbound"}"#
            )
            #expect(added.status == .created)
            #expect(
                added.text
                    == #"{"direction":"inbound","domain":"northwind.onmicrosoft.com","tenantDisplayName":"Northwind","#
                    + #""tenantId":"\#(Self.northwind)"}"#
            )
            #expect(added.headers[.eTag] == #""9e3a37c5dc0d7851""#)

            // A `tenant` that is not a string is no tenant to compare with the path's.
            let changed = try await api.call(
                .patch,
                PolicyAPIHarness.isolationPath + "/rules/fabrikam.onmicrosoft.com",
                body: #"{"direction": "outbound", "tenant": 7}"#
            )
            #expect(changed.status == .ok)
            #expect(
                changed.text
                    == #"{"direction":"outbound","domain":"fabrikam.onmicrosoft.com","tenantDisplayName":"Fabrikam / EU","#
                    + #""tenantId":"\#(Self.fabrikam)"}"#
            )

            let deleted = try await api.call(.delete, PolicyAPIHarness.isolationPath + "/rules/%2A")
            #expect(deleted.status == .noContent)
            #expect(deleted.fields == [#"etag: "aa0baba8798c2d13""#, "Content-Length: 0"])
        }
    }

    /// Another tenant's file left broken by a hand edit refuses a change (nothing can be validated), but its
    /// diagnostics, which quote its text, and the directory's path are not the caller's to read.
    @Test func anotherTenantsBrokenFileIsCountedNotQuoted() async throws {
        try await PolicyAPIHarness.run { api in
            try #"{"properties": {"tenantId": "\#(Self.adatum)", "isDisabled": false, "isDisabled": false, "#
                .appending(#""allowedTenants": [{"tenantId": "*", "tenantDisplayName": "SECRET-PARTNER"}]}}"#)
                .write(toFile: "\(api.directory)/adatum-hand-edit.json", atomically: true, encoding: .utf8)
            // Left alone past the settling second, as a hand edit is: a write reads it then, not while it is written.
            try await Task.sleep(for: .milliseconds(1_200))
            let refused = try await api.call(
                .post,
                PolicyAPIHarness.isolationPath + "/rules",
                body: #"{"tenantId": "northwind.onmicrosoft.com", "direction": "inbound"}"#
            )
            #expect(refused.status == .badRequest)
            #expect(refused.text.contains("1 error in other policy files"), "\(refused.text)")
            #expect(!refused.text.contains("SECRET-PARTNER"), "\(refused.text)")
            #expect(!refused.text.contains("adatum-hand-edit"), "\(refused.text)")
            #expect(!refused.text.contains(api.directory), "\(refused.text)")
        }
    }

    @Test func powerPlatformErrorBodies() async throws {
        try await PolicyAPIHarness.run { api in
            let rules = PolicyAPIHarness.isolationPath + "/rules"
            let expectations: [(HTTPRequest.Method, String, body: String?, status: Int, answer: String)] = [
                (
                    .post, rules, #"{"tenant": 5}"#, 400,
                    #"{"error":{"code":"BadRequest","message":"expected {\"tenant\": ID, domain or *, \"direction\": "#
                        + #"inbound, outbound or both}"}}"#
                ),
                (
                    .post, rules, nil, 400,
                    #"{"error":{"code":"BadRequest","message":"expected {\"tenant\": ID, domain or *, \"direction\": inbound, outbound or both}"}}"#
                ),
                (
                    .post, rules, #"{"tenant": "northwind.onmicrosoft.com", "direction": "sideways"}"#, 400,
                    #"{"error":{"code":"BadRequest","message":"'sideways' is not inbound, outbound or both"}}"#
                ),
                (
                    .post, rules, #"{"tenant": "nowhere.example", "direction": "both"}"#, 404,
                    #"{"error":{"code":"NotFound","message":"domain 'nowhere.example' does not resolve to a tenant: "#
                        + #"add it to directory.yaml or use the tenant ID"}}"#
                ),
                (
                    .post, rules, #"{"tenant": "*", "direction": "both"}"#, 409,
                    #"{"error":{"code":"Conflict","message":"a rule for * already exists; change its direction instead"}}"#
                ),
                (
                    .patch, rules + "/fabrikam.onmicrosoft.com", "[]", 400,
                    #"{"error":{"code":"BadRequest","message":"expected {\"direction\": inbound, outbound or both}"}}"#
                ),
                (
                    .patch, rules + "/fabrikam.onmicrosoft.com", #"{"direction": "outbound", "tenantId": "*"}"#, 400,
                    #"{"error":{"code":"BadRequest","message":"a rule's tenant cannot be changed, only its direction; "#
                        + #"delete the rule and add another"}}"#
                ),
                (
                    .delete, rules + "/" + Self.northwind.description, nil, 404,
                    #"{"error":{"code":"NotFound","message":"no rule for \#(Self.northwind)"}}"#
                ),
                (
                    .put, rules, nil, 405,
                    #"{"error":{"code":"MethodNotAllowed","message":"PUT is not supported on "#
                        + #"/providers/PowerPlatform.Governance/v1/tenants/\#(Self.contoso)/tenantIsolationPolicy/rules"}}"#
                ),
                (
                    .put, PolicyAPIHarness.isolationPath,
                    #"{"properties": {"tenantId": "\#(Self.contoso)", "isDisabled": "no", "allowedTenants": "#
                        + #"[{"tenantId": "x"}]}}"#,
                    400,
                    #"{"error":{"code":"BadRequest","details":[{"code":"ValidationError","message":"request body.json:1: "#
                        + #"properties.isDisabled: expected true or false, found 'no'"},{"code":"ValidationError","#
                        + #""message":"request body.json:1: properties.allowedTenants[0].tenantId: 'x' is not a tenant: "#
                        + #"use a tenant ID (GUID), a verified domain, or *"},{"code":"ValidationError","message":"#
                        + #""request body.json:1: properties.allowedTenants[0].direction: missing (required): "#
                        + #"{\"inbound\": bool, \"outbound\": bool}"}],"message":"the tenant isolation policy is invalid"}}"#
                ),
            ]
            for (method, path, body, status, expected) in expectations {
                let answer = try await api.call(method, path, body: body)
                #expect(answer.status.code == status, "\(method) \(path) \(body ?? "")")
                #expect(answer.text == expected, "\(method) \(path) \(body ?? "")")
                #expect(answer.headers[.contentType] == "application/json; charset=utf-8")
            }

            let stale = try await api.call(.delete, rules + "/*", ifMatch: #""stale""#)
            #expect(stale.status == .preconditionFailed)
            #expect(
                stale.text
                    == #"{"error":{"code":"PreconditionFailed","message":"the policy changed since it was read "#
                    + #"(If-Match does not match the current ETag); read it again"}}"#
            )
            #expect(
                stale.fields == [
                    "content-type: application/json; charset=utf-8", #"etag: "06205d0e642d19ef""#,
                    "Content-Length: 146",
                ]
            )
        }
    }

    @Test func graphAnswersAndErrorBodies() async throws {
        try await PolicyAPIHarness.run(as: Self.northwind) { api in
            let partners = try await api.call(.get, Self.graphPath + "/partners")
            #expect(
                partners.text
                    == #"{"value":[{"automaticUserConsentSettings":null,"b2bCollaborationInbound":null,"#
                    + #""b2bCollaborationOutbound":null,"b2bDirectConnectInbound":null,"b2bDirectConnectOutbound":null,"#
                    + #""inboundTrust":null,"isInMultiTenantOrganization":null,"isServiceProvider":true,"#
                    + #""tenantId":"\#(Self.fabrikam)","tenantRestrictions":null}]}"#
            )
            #expect(partners.headers[.eTag] == #""1f965d36cd09be9c""#)

            let missing = try await api.call(.patch, Self.graphPath + "/partners/\(Self.adatum)", body: "{}")
            #expect(missing.status == .notFound)
            #expect(
                try missing.textMaskingGraphInnerError
                    == #"{"error":{"code":"Request_ResourceNotFound","innerError":{"date":"DATE","request-id":"ID"},"#
                    + #""message":"tenant \#(Self.adatum) has no partner configuration"}}"#
            )

            let notAllowed = try await api.call(.put, Self.graphPath + "/partners")
            #expect(
                try notAllowed.textMaskingGraphInnerError
                    == #"{"error":{"code":"Request_BadRequest","innerError":{"date":"DATE","request-id":"ID"},"#
                    + #""message":"PUT is not supported on /v1.0/policies/crossTenantAccessPolicy/partners"}}"#
            )

            let invalid = try await api.call(
                .patch,
                Self.graphPath + "/default",
                body: #"{"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "blocked", "targets": "#
                    + #"[{"target": "AllUsers", "targetType": "user"}]}}}"#
            )
            #expect(invalid.status == .badRequest)
            #expect(
                try invalid.textMaskingGraphInnerError
                    == #"{"error":{"code":"Request_BadRequest","innerError":{"date":"DATE","request-id":"ID"},"#
                    + #""message":"the change would make the policies invalid; nothing was changed: "#
                    + #"northwind.json:12: default.b2bCollaborationInbound.applications: "#
                    + #"usersAndGroups blocks AllUsers, so applications must block AllApplications"}}"#
            )

            let stale = try await api.call(.post, Self.graphPath + "/default/resetToSystemDefault", ifMatch: #""x""#)
            #expect(stale.status == .preconditionFailed)
            #expect(
                try stale.textMaskingGraphInnerError
                    == #"{"error":{"code":"Request_PreconditionFailed","innerError":{"date":"DATE","request-id":"ID"},"#
                    + #""message":"the settings changed since they were read (If-Match does not match the current "#
                    + #"ETag)"}}"#
            )
            #expect(stale.headers[.eTag] == #""1f965d36cd09be9c""#)
        }
    }

    @Test func theChangeLinesOfBothAPIs() async throws {
        try await PolicyAPIHarness.run(as: Self.adatum) { api in
            let path = "/providers/PowerPlatform.Governance/v1/tenants/\(Self.adatum)/tenantIsolationPolicy/rules"
            let added = try await api.call(
                .post,
                path,
                body: #"{"tenantId": "fabrikam.onmicrosoft.com", "direction": "both"}"#
            )
            #expect(added.status == .created)
            let actor =
                #"{"application_id":"00000000-0000-4000-8000-0000000000c0","name":"ada@contoso.onmicrosoft.com","#
                + #""object_id":"00000000-0000-4000-8000-00000000000a","tenant":"\#(Self.adatum)"}"#
            let version = try Self.versionOnDisk(api)
            #expect(
                try api.audit.lines.map(maskingTimeAndCorrelationID) == [
                    #"{"actor":\#(actor),"after":{"properties":{"allowedTenants":[{"direction":{"inbound":true,"#
                        + #""outbound":true},"tenantDisplayName":"Fabrikam / EU","tenantId":"\#(Self.fabrikam)"}],"#
                        + #""isDisabled":false,"tenantId":"\#(Self.adatum)"}},"before":{"properties":{"allowedTenants":[],"#
                        + #""isDisabled":false,"tenantId":"\#(Self.adatum)"}},"correlation_id":"ID","event":"policy_change","#
                        + #""operation":"POST rules","policy_version":"\#(version)","resource":"tenantIsolationPolicy","#
                        + #""tenant":"\#(Self.adatum)","time":"TIME"}"#
                ]
            )
            // Power Platform's JSON file keeps its format, pretty and with sorted keys.
            #expect(
                try api.file("adatum.json") == """
                    {
                      "properties" : {
                        "allowedTenants" : [
                          {
                            "direction" : {
                              "inbound" : true,
                              "outbound" : true
                            },
                            "tenantDisplayName" : "Fabrikam / EU",
                            "tenantId" : "\(Self.fabrikam)"
                          }
                        ],
                        "isDisabled" : false,
                        "tenantId" : "\(Self.adatum)"
                      }
                    }

                    """
            )

            // The first cross-tenant access settings of a tenant: `before` is null.
            let patched = try await api.call(
                .patch,
                Self.graphPath + "/default",
                body: #"{"inboundTrust": {"isMfaAccepted": true}}"#
            )
            #expect(patched.status == .noContent)
            let line = try maskingTimeAndCorrelationID(try #require(api.audit.lines.last))
            let serviceDefault =
                #"{"automaticUserConsentSettings":{"inboundAllowed":false,"outboundAllowed":false},"#
                + #""b2bCollaborationInbound":{"applications":{"accessType":"allowed","targets":[{"target":"AllApplications","#
                + #""targetType":"application"}]},"usersAndGroups":{"accessType":"allowed","targets":[{"target":"AllUsers","#
                + #""targetType":"user"}]}},"b2bCollaborationOutbound":{"applications":{"accessType":"allowed","targets":"#
                + #"[{"target":"AllApplications","targetType":"application"}]},"usersAndGroups":{"accessType":"allowed","#
                + #""targets":[{"target":"AllUsers","targetType":"user"}]}},"b2bDirectConnectInbound":{"applications":"#
                + #"{"accessType":"blocked","targets":[{"target":"AllApplications","targetType":"application"}]},"#
                + #""usersAndGroups":{"accessType":"blocked","targets":[{"target":"AllUsers","targetType":"user"}]}},"#
                + #""b2bDirectConnectOutbound":{"applications":{"accessType":"blocked","targets":[{"target":"#
                + #""AllApplications","targetType":"application"}]},"usersAndGroups":{"accessType":"blocked","targets":"#
                + #"[{"target":"AllUsers","targetType":"user"}]}},"#
            let settingsVersion = try Self.versionOnDisk(api)
            #expect(
                line
                    == #"{"actor":\#(actor),"after":{"allowedCloudEndpoints":[],"default":\#(serviceDefault)"#
                    + #""inboundTrust":{"isCompliantDeviceAccepted":null,"isHybridAzureADJoinedDeviceAccepted":null,"#
                    + #""isMfaAccepted":true},"#
                    + #""isServiceDefault":false,"tenantRestrictions":null},"partners":[]},"before":null,"#
                    + #""correlation_id":"ID","event":"policy_change","operation":"PATCH default","#
                    + #""policy_version":"\#(settingsVersion)","resource":"crossTenantAccessPolicy","tenant":"\#(Self.adatum)","#
                    + #""time":"TIME"}"#
            )
        }
    }
}

extension TestResponse {
    /// The header fields as sent: name as spelt, and value.
    var fields: [String] { headers.map { "\($0.name.rawName): \($0.value)" } }

    /// The body with a Graph error's date and request ID, drawn for each answer, masked once their format is checked.
    var textMaskingGraphInnerError: String {
        get throws {
            let pattern =
                #/"date":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ","request-id":"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"/#
            try #require(text.contains(pattern), "\(text)")
            return text.replacing(pattern, with: #""date":"DATE","request-id":"ID""#)
        }
    }
}

/// An audit line with its time and correlation ID masked once their format is checked.
func maskingTimeAndCorrelationID(_ line: String) throws -> String {
    let time = #/"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/#
    let correlation = #/"correlation_id":"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"/#
    try #require(line.contains(time) && line.contains(correlation), "\(line)")
    return line.replacing(time, with: #""time":"TIME""#).replacing(correlation, with: #""correlation_id":"ID""#)
}

extension PolicyAnswerBytesTests {
    /// The version of the policies as the change left them on disk: what a fresh load of the directory gives.
    static func versionOnDisk(_ api: PolicyAPIHarness) throws -> String {
        try PolicyDirectoryLoader.load(directory: api.directory).get().version
    }
}
