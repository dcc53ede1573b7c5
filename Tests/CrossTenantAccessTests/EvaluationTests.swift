import CrossTenantAccess
import Foundation
import TenantPolicy
import Testing

/// Target matching beyond the seed table: unknown users and applications, user targets, letter case, Microsoft's
/// reserved application keywords, tenant restrictions and access types that admit nobody.
struct EvaluationTests {
    static func policy(_ setting: String, kind: String = "b2bCollaborationInbound") throws -> CrossTenantAccessPolicy {
        try Fixtures.policy(#"{"partners": [{"tenantId": "\#(Fixtures.fabrikam)", "\#(kind)": \#(setting)}]}"#)
    }

    @Test func unknownUserMatchesOnlyAllUsers() throws {
        let allowG1 = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("g1", "group")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        let refused = allowG1.evaluate(Fixtures.query(user: nil))
        #expect(!refused.isAllowed)
        #expect(
            refused.explanation
                == "Blocked by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam): an "
                + "unknown user matches none of the allowed usersAndGroups ('g1')."
        )
        let allowAll = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        #expect(allowAll.evaluate(Fixtures.query(user: nil, application: nil)).isAllowed)
    }

    @Test func anUnknownApplicationIsAdmittedOnlyWhereAnyWouldBe() throws {
        let onlyA1 = try Self.policy(
            Fixtures.setting(users: "allowed", [("AllUsers", "user")], applications: "allowed", [("a1", "application")])
        )
        #expect(!onlyA1.evaluate(Fixtures.query(application: nil)).isAllowed)
        let blockA1 = try Self.policy(
            Fixtures.setting(users: "allowed", [("AllUsers", "user")], applications: "blocked", [("a1", "application")])
        )
        #expect(!blockA1.evaluate(Fixtures.query(application: nil)).isAllowed)
        #expect(blockA1.evaluate(Fixtures.query(application: "a2")).isAllowed)
        let blockOffice = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "blocked",
                [("Office365", "application")]
            )
        )
        #expect(!blockOffice.evaluate(Fixtures.query(application: nil)).isAllowed)
    }

    /// An unknown user (an ID token without `profile` names none) could be one of the users a blocked list names:
    /// it is refused, as it is by an allowed list that does not name everyone (review 29).
    @Test func anUnknownUserIsRefusedByABlockOfNamedUsers() throws {
        let blockU1 = try Self.policy(
            Fixtures.setting(
                users: "blocked",
                [("u9", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        let refused = blockU1.evaluate(Fixtures.query(user: nil))
        #expect(!refused.isAllowed)
        #expect(
            refused.explanation
                == "Blocked by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam): an "
                + "unknown user could be one of the blocked usersAndGroups ('u9') (fail closed)."
        )
        #expect(blockU1.evaluate(Fixtures.query(user: UserIdentity(id: "u1"))).isAllowed)
        // Both parts blocked: only a matching user at a matching application is refused, and an unknown user at a
        // matching application may be that user.
        let bothBlocked = try Self.policy(
            Fixtures.setting(users: "blocked", [("g9", "group")], applications: "blocked", [("a1", "application")])
        )
        #expect(!bothBlocked.evaluate(Fixtures.query(user: nil, application: "a1")).isAllowed)
        #expect(bothBlocked.evaluate(Fixtures.query(user: nil, application: "a2")).isAllowed)
    }

    /// A user whose groups are not known (a guest's in its home tenant) may be in a group a blocked list names; a
    /// list of named users still judges it by its ID.
    @Test func aUserWhoseGroupsAreUnknownMayBeInANamedGroup() throws {
        let blockG9 = try Self.policy(
            Fixtures.setting(
                users: "blocked",
                [("g9", "group")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        let groupsUnknown = UserIdentity(id: "u1", groupsKnown: false)
        let refused = blockG9.evaluate(Fixtures.query(user: groupsUnknown))
        #expect(!refused.isAllowed)
        #expect(
            refused.explanation.hasSuffix(
                "user u1, whose groups are not known, could be one of the blocked usersAndGroups ('g9') (fail closed)."
            ),
            "\(refused.explanation)"
        )
        #expect(blockG9.evaluate(Fixtures.query(user: UserIdentity(id: "u1"))).isAllowed)
        let blockU9 = try Self.policy(
            Fixtures.setting(
                users: "blocked",
                [("u9", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        #expect(blockU9.evaluate(Fixtures.query(user: groupsUnknown)).isAllowed)
    }

    /// An ID matches however either side spells the GUID, as Entra reads it (review 54: a block of `{GUID}` blocked
    /// nothing, and a `client_id` without hyphens passed a block of the application).
    @Test(arguments: [
        ("{6F2C1A7E-0000-4000-8000-00000000000B}", "6f2c1a7e-0000-4000-8000-00000000000b"),
        (" 6f2c1a7e-0000-4000-8000-00000000000b", "6F2C1A7E00004000800000000000000B"),
        ("6f2c1a7e-0000-4000-8000-00000000000b", "(6f2c1a7e-0000-4000-8000-00000000000b)"),
        ("6f2c1a7e-0000-4000-8000-00000000000b", "{6f2c1a7e-0000-4000-8000-00000000000b} "),
        // Every white space .NET trims (review 55).
        ("6f2c1a7e-0000-4000-8000-00000000000b", "\u{0B}6f2c1a7e-0000-4000-8000-00000000000b\r\n\u{A0}\u{3000}"),
    ])
    func anApplicationMatchesInEverySpellingOfItsID(target: String, clientID: String) throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "blocked",
                [(target, "application")]
            )
        )
        let result = policy.evaluate(Fixtures.query(application: clientID))
        #expect(!result.isAllowed && result.decidingTarget == target, "\(result.explanation)")
        #expect(policy.evaluate(Fixtures.query(application: Fixtures.graph)).isAllowed)
    }

    @Test func aUserAndAGroupMatchInEverySpellingOfTheirIDs() throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "blocked",
                [
                    ("{5C1E7F00-0000-4000-8000-00000000000A}", "user"),
                    ("7d000000-0000-4000-8000-0000000000cc", "group"),
                ],
                applications: "blocked",
                [("AllApplications", "application")]
            )
        )
        let spaceInside = UserIdentity(id: "5c1e7f00000040008000 00000000000a")
        #expect(policy.evaluate(Fixtures.query(user: spaceInside)).isAllowed, "another ID")
        #expect(!policy.evaluate(Fixtures.query(user: UserIdentity(id: "5c1e7f0000004000800000000000000a"))).isAllowed)
        let member = UserIdentity(id: "u9", groupIDs: ["{7D000000-0000-4000-8000-0000000000CC}"])
        #expect(!policy.evaluate(Fixtures.query(user: member)).isAllowed)
    }

    @Test func userTargetsAndLetterCase() throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("5C1E7F00-0000-4000-8000-00000000000A", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        let user = UserIdentity(id: "5c1e7f00-0000-4000-8000-00000000000a")
        let result = policy.evaluate(Fixtures.query(user: user))
        #expect(result.isAllowed)
        #expect(result.decidingTarget == "5C1E7F00-0000-4000-8000-00000000000A")
        #expect(!policy.evaluate(Fixtures.query(user: UserIdentity(id: "someone-else"))).isAllowed)
    }

    @Test(arguments: [
        ("Office365", Fixtures.exchange, true),
        ("Office365", Fixtures.graph, false),
        ("AllMicrosoftApps", Fixtures.graph, true),
        ("AllMicrosoftApps", "1FEC8E78-BCE4-4AAF-AB1B-5451CC387264", true),
        ("AllMicrosoftApps", "11111111-2222-3333-4444-555555555555", false),
        ("Office365", "a1", false),
    ])
    func microsoftApplicationKeywords(keyword: String, application: String, matches: Bool) throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "allowed",
                [("AllUsers", "user")],
                applications: "allowed",
                [(keyword, "application")]
            )
        )
        let result = policy.evaluate(Fixtures.query(application: application))
        #expect(result.isAllowed == matches)
        #expect(result.decidingTarget == (matches ? keyword : nil))
    }

    @Test func tenantRestrictionsIgnoreDirection() throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "blocked",
                [("g1", "group")],
                applications: "blocked",
                [("AllApplications", "application")]
            ),
            kind: "tenantRestrictions"
        )
        for direction in Direction.allCases {
            let result = policy.evaluate(Fixtures.query(.tenantRestrictions, direction))
            #expect(!result.isAllowed)
            #expect(result.settingName == "tenantRestrictions")
            #expect(result.decidingTarget == "g1")
        }
        #expect(policy.evaluate(Fixtures.query(.tenantRestrictions, .outbound, user: Fixtures.outsideG1)).isAllowed)
    }

    @Test func unrecognizedAccessTypeAdmitsNobody() throws {
        let policy = try Self.policy(
            Fixtures.setting(
                users: "permitted",
                [("AllUsers", "user")],
                applications: "allowed",
                [("AllApplications", "application")]
            )
        )
        let result = policy.evaluate(Fixtures.query())
        #expect(!result.isAllowed)
        #expect(
            result.explanation
                == "Blocked by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam): "
                + "usersAndGroups has accessType 'permitted', which admits nobody."
        )
    }

    @Test func allowedExplanationNamesBothParts() throws {
        let policy = try Self.policy(
            Fixtures.setting(users: "allowed", [("g1", "group")], applications: "blocked", [("a1", "application")])
        )
        let result = policy.evaluate(Fixtures.query(user: Fixtures.memberOfG1, application: "a2"))
        #expect(result.isAllowed)
        #expect(
            result.explanation
                == "Allowed by b2bCollaborationInbound of the partner configuration for \(Fixtures.fabrikam): "
                + "usersAndGroups admits user u1 (allowed target 'g1') and applications admits application a2 "
                + "(no blocked target matches)."
        )
    }

    @Test func aPartnerListedTwiceIsAnsweredByTheFirst() throws {
        let policy = try Fixtures.policy(
            #"""
            {"partners": [
              {"tenantId": "\#(Fixtures.fabrikam)", "b2bCollaborationInbound": \#(Fixtures.setting(users: "blocked", [("AllUsers", "user")], applications: "blocked", [("AllApplications", "application")]))},
              {"tenantId": "\#(Fixtures.fabrikam)"}]}
            """#
        )
        #expect(!policy.evaluate(Fixtures.query()).isAllowed)
        #expect(policy.partner(Fixtures.fabrikam) == policy.partners[0])
    }
}
