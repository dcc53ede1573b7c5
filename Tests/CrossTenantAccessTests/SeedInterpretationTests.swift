import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// Seed 002's "Interpreting the API response" table, one case per row, each asked for a user inside and outside
/// `g1` at application `a1` and at another application. The expected values are the seed's interpretation
/// column (rows 1 and 2 say "-": everything blocked, everything allowed).
struct SeedInterpretationTests {
    struct Row: Sendable, CustomTestStringConvertible {
        let scenario: String
        /// The seed's API output, verbatim (row 6 keeps its `" blocked"`).
        let json: String
        /// The interpretation: is a user (in g1 or not) allowed at an application (a1 or not)?
        let allows: @Sendable (_ inG1: Bool, _ isA1: Bool) -> Bool
        var testDescription: String { scenario }
    }

    static let rows: [Row] = [
        Row(
            scenario: "Block all users and block all applications",
            json: Fixtures.setting(
                users: "blocked",
                [("AllUsers", "user")],
                applications: "blocked",
                [("AllApplications", "application")]
            ),
            allows: { _, _ in false }
        ),
        Row(
            scenario: "Allow all users and allow all applications",
            json: Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            ),
            allows: { _, _ in true }
        ),
        Row(
            scenario: "Allow users in group 'g1' to access any app",
            json: Fixtures.setting(
                users: "allowed",
                [("g1", "group")],
                applications: "allowed",
                [("AllApplications", "application")]
            ),
            allows: { inG1, _ in inG1 }
        ),
        Row(
            scenario: "Allow access to only application 'a1'",
            json: Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "allowed",
                [("a1", "application")]
            ),
            allows: { _, isA1 in isA1 }
        ),
        Row(
            scenario: "Allow users in group 'g1' and block access to application 'a1'",
            json: Fixtures.setting(
                users: "allowed",
                [("g1", "group")],
                applications: "blocked",
                [("a1", "application")]
            ),
            allows: { inG1, isA1 in inG1 && !isA1 }
        ),
        Row(
            scenario: "Block users in group 'g1' from accessing any application",
            json: Fixtures.setting(
                users: " blocked",
                [("g1", "group")],
                applications: "blocked",
                [("AllApplications", "application")]
            ),
            allows: { inG1, _ in !inG1 }
        ),
        Row(
            scenario: "Block users in group 'g1' and allow access to application 'a1' only",
            json: Fixtures.setting(
                users: "blocked",
                [("g1", "group")],
                applications: "allowed",
                [("a1", "application")]
            ),
            allows: { inG1, isA1 in !inG1 && isA1 }
        ),
        Row(
            scenario: "Allow users in group 'g1' to access to only application 'a1'",
            json: Fixtures.setting(
                users: "allowed",
                [("g1", "group")],
                applications: "allowed",
                [("a1", "application")]
            ),
            allows: { inG1, isA1 in inG1 && isA1 }
        ),
        Row(
            scenario: "Block users in group 'g1' from accessing application 'a1'",
            json: Fixtures.setting(
                users: "blocked",
                [("g1", "group")],
                applications: "blocked",
                [("a1", "application")]
            ),
            allows: { inG1, isA1 in !(inG1 && isA1) }
        ),
    ]

    /// Where the row's setting is placed: a partner's collaboration inbound, or the default's direct connect
    /// outbound asked for a tenant that is no partner.
    enum Placement: String, CaseIterable, Sendable {
        case partnerCollaborationInbound
        case defaultDirectConnectOutbound

        func policy(_ setting: String) throws -> CrossTenantAccessPolicy {
            switch self {
            case .partnerCollaborationInbound:
                try Fixtures.policy(
                    #"{"partners": [{"tenantId": "\#(Fixtures.fabrikam)", "b2bCollaborationInbound": \#(setting)}]}"#
                )
            case .defaultDirectConnectOutbound:
                try Fixtures.policy(#"{"default": {"b2bDirectConnectOutbound": \#(setting)}}"#)
            }
        }

        func query(user: UserIdentity, application: String) -> CrossTenantAccessQuery {
            switch self {
            case .partnerCollaborationInbound:
                Fixtures.query(
                    .b2bCollaboration,
                    .inbound,
                    partner: Fixtures.fabrikam,
                    user: user,
                    application: application
                )
            case .defaultDirectConnectOutbound:
                Fixtures.query(
                    .b2bDirectConnect,
                    .outbound,
                    partner: Fixtures.northwind,
                    user: user,
                    application: application
                )
            }
        }
    }

    @Test(arguments: rows, Placement.allCases)
    func row(_ row: Row, placement: Placement) throws {
        let policy = try placement.policy(row.json)
        for (user, inG1) in [(Fixtures.memberOfG1, true), (Fixtures.outsideG1, false)] {
            for (application, isA1) in [("a1", true), ("a2", false)] {
                let result = policy.evaluate(placement.query(user: user, application: application))
                #expect(
                    result.isAllowed == row.allows(inG1, isA1),
                    "user \(user.id) in g1: \(inG1), application \(application): \(result.explanation)"
                )
            }
        }
    }

    @Test(arguments: rows)
    func rowHasNoValidationError(_ row: Row) throws {
        let policy = try Placement.partnerCollaborationInbound.policy(row.json)
        #expect(policy.validate().filter { $0.severity == .error } == [])
    }

    @Test func rowSixBlankBlockedIsAWarning() throws {
        let policy = try Placement.partnerCollaborationInbound.policy(Self.rows[5].json)
        #expect(
            policy.validate() == [
                CrossTenantAccessDiagnostic(
                    .warning,
                    field: "partners[0].b2bCollaborationInbound.usersAndGroups.accessType",
                    message: "' blocked' has stray whitespace; read as 'blocked'"
                )
            ]
        )
    }

    /// The deciding target and the configuration named, for the rows where one target decides.
    @Test func decidingTargets() throws {
        func result(_ row: Int, _ user: UserIdentity, _ application: String) throws -> CrossTenantAccessResult {
            try Placement.partnerCollaborationInbound.policy(Self.rows[row].json)
                .evaluate(Fixtures.query(user: user, application: application))
        }
        #expect(try result(0, Fixtures.memberOfG1, "a1").decidingTarget == "AllUsers")
        #expect(try result(2, Fixtures.memberOfG1, "a2").decidingTarget == "g1")
        #expect(try result(2, Fixtures.outsideG1, "a2").decidingTarget == nil)
        #expect(try result(3, Fixtures.outsideG1, "a1").decidingTarget == "a1")
        #expect(try result(4, Fixtures.memberOfG1, "a1").decidingTarget == "a1")
        #expect(try result(5, Fixtures.memberOfG1, "a2").decidingTarget == "g1")
        #expect(try result(8, Fixtures.memberOfG1, "a1").decidingTarget == "g1")
        #expect(try result(8, Fixtures.memberOfG1, "a2").decidingTarget == nil)
        let blocked = try result(8, Fixtures.memberOfG1, "a1")
        #expect(blocked.configuration == .partner(Fixtures.fabrikam))
        #expect(blocked.settingName == "b2bCollaborationInbound")
        #expect(!blocked.inherited)
        #expect(
            blocked.explanation
                == "Blocked by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam): both "
                + "usersAndGroups and applications are blocked, which blocks only a matching user at a matching "
                + "application, and user u1 matches 'g1' and application a1 matches 'a1'."
        )
    }
}
