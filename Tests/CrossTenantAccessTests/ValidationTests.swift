import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// Every validation error and warning, each with its field path and message.
struct ValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let json: String
        let expected: [CrossTenantAccessDiagnostic]
        var testDescription: String { name }
    }

    static let fabrikam = Fixtures.fabrikam.description
    static let allowAll = Fixtures.setting(
        users: "allowed",
        [("AllUsers", "user")],
        applications: "allowed",
        [("AllApplications", "application")]
    )

    static func partner(_ properties: String, tenant: String = fabrikam) -> String {
        #"{"partners": [{"tenantId": "\#(tenant)", \#(properties)}]}"#
    }

    static func inbound(
        _ users: String,
        _ userTargets: [(String, String)],
        _ applications: String,
        _ applicationTargets: [(String, String)]
    ) -> String {
        partner(
            #""b2bCollaborationInbound": "#
                + Fixtures.setting(users: users, userTargets, applications: applications, applicationTargets)
        )
    }

    static let inboundPath = "partners[0].b2bCollaborationInbound"

    static let cases: [Case] = [
        // Review 54: a keyword in another letter case was kept as an ID nothing matches, so the block blocked nothing.
        Case(
            name: "keyword in another letter case",
            json: inbound("blocked", [("allusers", "user")], "blocked", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.targets[0].target",
                    message: "'allusers' is not a keyword; did you mean 'AllUsers'?"
                )
            ]
        ),
        // Read past, and the keyword then counts for Graph's pairing rule (block AllUsers, block AllApplications).
        // A CRLF too, one Character that is neither CR nor LF (review 55).
        Case(
            name: "white space around a keyword",
            json: inbound("blocked", [("AllUsers\\r\\n", "user")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .warning,
                    field: "\(inboundPath).usersAndGroups.targets[0].target",
                    message: "'AllUsers\r\n' has stray whitespace; read as 'AllUsers'"
                ),
                .init(
                    .error,
                    field: "\(inboundPath).applications",
                    message: "usersAndGroups blocks AllUsers, so applications must block AllApplications"
                ),
            ]
        ),
        Case(
            name: "tenant ID that is not a GUID",
            json: partner(#""isServiceProvider": true"#, tenant: "fabrikam.onmicrosoft.com"),
            expected: [
                .init(.error, field: "partners[0].tenantId", message: "'fabrikam.onmicrosoft.com' is not a tenant GUID")
            ]
        ),
        Case(
            name: "duplicate partner (other letter case)",
            json: #"{"partners": [{"tenantId": "\#(fabrikam)"}, {"tenantId": "\#(fabrikam.uppercased())"}]}"#,
            expected: [
                .init(
                    .error,
                    field: "partners[1].tenantId",
                    message: "tenant \(fabrikam) already has a partner configuration at partners[0]"
                )
            ]
        ),
        Case(
            name: "unknown access type",
            json: inbound("permitted", [("AllUsers", "user")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.accessType",
                    message: "'permitted' is not an access type; use 'allowed' or 'blocked'"
                )
            ]
        ),
        Case(
            name: "unknownFutureValue access type",
            json: inbound(
                "allowed",
                [("AllUsers", "user")],
                "unknownFutureValue",
                [("AllApplications", "application")]
            ),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).applications.accessType",
                    message: "'unknownFutureValue' is Graph's placeholder for future values; use 'allowed' or 'blocked'"
                )
            ]
        ),
        Case(
            name: "seed 002's ' blocked' is a warning",
            json: inbound(" blocked", [("g1", "group")], "blocked", [("AllApplications", "application")]),
            expected: [
                .init(
                    .warning,
                    field: "\(inboundPath).usersAndGroups.accessType",
                    message: "' blocked' has stray whitespace; read as 'blocked'"
                )
            ]
        ),
        Case(
            name: "unknown target type",
            json: inbound("allowed", [("g1", "team")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.targets[0].targetType",
                    message: "'team' is not a target type; use 'user', 'group' or 'application'"
                )
            ]
        ),
        Case(
            name: "AllUsers with targetType group",
            json: inbound("allowed", [("AllUsers", "group")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.targets[0].targetType",
                    message: "'AllUsers' requires targetType 'user', not 'group'"
                )
            ]
        ),
        Case(
            name: "Office365 with targetType user",
            json: inbound("allowed", [("AllUsers", "user")], "allowed", [("Office365", "user")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).applications.targets[0].targetType",
                    message: "'Office365' requires targetType 'application', not 'user'"
                )
            ]
        ),
        Case(
            name: "application target among users and groups",
            json: inbound("allowed", [("a1", "application")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.targets[0].targetType",
                    message: "usersAndGroups takes 'user' or 'group' targets, not 'application'"
                )
            ]
        ),
        Case(
            name: "group target among applications",
            json: inbound("allowed", [("AllUsers", "user")], "allowed", [("g1", "group")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).applications.targets[0].targetType",
                    message: "applications takes 'application' targets, not 'group'"
                )
            ]
        ),
        Case(
            name: "no targets and an empty target",
            json: inbound("allowed", [], "allowed", [("", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).usersAndGroups.targets",
                    message: "lists no targets; name at least one (AllUsers for everyone)"
                ),
                .init(
                    .error,
                    field: "\(inboundPath).applications.targets[0].target",
                    message: "is empty; name an ID or a keyword"
                ),
            ]
        ),
        Case(
            name: "blocking all users without blocking all applications",
            json: inbound("blocked", [("AllUsers", "user")], "allowed", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).applications",
                    message: "usersAndGroups blocks AllUsers, so applications must block AllApplications"
                )
            ]
        ),
        Case(
            name: "allowing users while blocking all applications",
            json: inbound("allowed", [("g1", "group")], "blocked", [("AllApplications", "application")]),
            expected: [
                .init(
                    .error,
                    field: "\(inboundPath).applications",
                    message: "usersAndGroups allows users, so applications must not block AllApplications"
                )
            ]
        ),
        Case(
            name: "conflict made by inheriting the default's applications",
            json: partner(
                #""b2bCollaborationOutbound": {"usersAndGroups": \#(Fixtures.part("blocked", [("AllUsers", "user")]))}"#
            ),
            expected: [
                .init(
                    .error,
                    field: "partners[0].b2bCollaborationOutbound.applications",
                    message:
                        "usersAndGroups blocks AllUsers, so applications must block AllApplications (applications from the default)"
                )
            ]
        ),
        Case(
            name: "conflict in the default's tenant restrictions",
            json:
                #"{"default": {"tenantRestrictions": \#(Fixtures.setting(users: "allowed", [("AllUsers", "user")], applications: "blocked", [("AllApplications", "application")]))}}"#,
            expected: [
                .init(
                    .error,
                    field: "default.tenantRestrictions.applications",
                    message: "usersAndGroups allows users, so applications must not block AllApplications"
                )
            ]
        ),
        Case(
            name: "conflict in the default's direct connect",
            json:
                #"{"default": {"b2bDirectConnectInbound": \#(Fixtures.setting(users: "blocked", [("AllUsers", "user")], applications: "blocked", [("a1", "application")]))}}"#,
            expected: [
                .init(
                    .error,
                    field: "default.b2bDirectConnectInbound.applications",
                    message: "usersAndGroups blocks AllUsers, so applications must block AllApplications"
                )
            ]
        ),
        Case(
            name: "unknown cloud endpoint",
            json: #"{"allowedCloudEndpoints": ["microsoftonline.us", "microsoftonline.de"]}"#,
            expected: [
                .init(
                    .error,
                    field: "allowedCloudEndpoints[1]",
                    message:
                        "'microsoftonline.de' is not a Microsoft cloud; use one of 'microsoftonline.com', 'microsoftonline.us', 'partner.microsoftonline.cn'"
                )
            ]
        ),
        Case(
            name: "identity synchronization for another tenant",
            json: partner(
                #""identitySynchronization": {"tenantId": "\#(Fixtures.northwind)", "userSyncInbound": {"isSyncAllowed": true}}"#
            ),
            expected: [
                .init(
                    .error,
                    field: "partners[0].identitySynchronization.tenantId",
                    message: "'\(Fixtures.northwind)' differs from the partner's tenantId \(fabrikam)"
                )
            ]
        ),
    ]

    @Test(arguments: cases)
    func diagnostics(_ testCase: Case) throws {
        #expect(try Fixtures.policy(testCase.json).validate() == testCase.expected)
    }

    @Test func partnerNamingTheOwnTenant() throws {
        let policy = try Fixtures.policy(Self.partner(#""b2bCollaborationInbound": \#(Self.allowAll)"#))
        #expect(policy.validate() == [])
        #expect(
            policy.validate(owner: Fixtures.fabrikam) == [
                .init(
                    .error,
                    field: "partners[0].tenantId",
                    message: "tenant \(Self.fabrikam) is this policy's own tenant, which cannot be its own partner"
                )
            ]
        )
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let json = #"""
            {"allowedCloudEndpoints": ["mars"],
             "partners": [{"tenantId": "nope",
                           "b2bDirectConnectInbound": {"usersAndGroups": {"accessType": "maybe", "targets": [{"target": "AllUsers", "targetType": "device"}]}}}]}
            """#
        let fields = try Fixtures.policy(json).validate().map(\.field)
        #expect(
            fields == [
                "allowedCloudEndpoints[0]", "partners[0].tenantId",
                "partners[0].b2bDirectConnectInbound.usersAndGroups.accessType",
                "partners[0].b2bDirectConnectInbound.usersAndGroups.targets[0].targetType",
            ]
        )
    }

    @Test func diagnosticPrintsItsFieldAndSeverity() {
        let warning = CrossTenantAccessDiagnostic(.warning, field: "a.b", message: "odd")
        #expect(warning.description == "warning: a.b: odd")
        #expect(CrossTenantAccessDiagnostic(.error, field: "", message: "bad").description == "bad")
    }
}
