import ArgumentParser
import ExchangePolicy
import Foundation
import LoopbackSimulation
import MockSTS
import ProxyServer
import TenantGateApp
import TenantPolicy
import Testing

@testable import tenantgate

/// Cross-tenant access settings enforced through the proxy: the mock STS mints guest tokens, member
/// tokens of foreign tenants and tokens of another cloud's STS; curl goes through the proxy; the audit line names
/// the setting. Policies: `policies/cross-tenant-access/` (Contoso isolation Off, so only these settings decide).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CrossTenantAccessEndToEndTests {
    static let policies = "\(ProxyEndToEndTests.repository)/policies/cross-tenant-access"
    static let contoso = ProxyEndToEndTests.contoso
    static let fabrikam = ProxyEndToEndTests.fabrikam
    static let northwind = ProxyEndToEndTests.northwind
    static let adatum = ProxyEndToEndTests.adatum
    static let woodgrove = TenantID("6a1c3f2e-0b7d-4e59-9a3c-5d8e7f901234")!
    /// The one Fabrikam user Contoso's inbound B2B collaboration admits.
    static let invitedUser = "5f0c4e1a-7b3d-4c2e-9a8f-1d2e3f4a5b6c"
    static let form = "grant_type=authorization_code&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&code=c0de-s3cr3t"

    static func lastAudit(_ harness: LoopbackHarness) -> [String: Any] {
        ProxyEndToEndTests.auditObject(harness.auditLines().last ?? "")
    }

    @Test func guestSignInsFollowInboundAndOutboundB2BCollaboration() async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            let path = "/\(Self.contoso)/oauth2/v2.0/token"
            // The invited Fabrikam user comes into Contoso as a guest: Contoso's partner configuration admits them.
            let invited = try await harness.tokenRequest(
                creator: Self.contoso,
                path: path,
                form: Self.form + "&mock_home_tenant=\(Self.fabrikam)&mock_oid=\(Self.invitedUser)"
            )
            #expect(invited.status == 200)
            #expect(Self.lastAudit(harness)["decision"] as? String == "allowed")
            #expect(Self.lastAudit(harness)["home_tenant"] as? String == Self.fabrikam.description)

            // Another Fabrikam user: refused by Contoso's b2bCollaborationInbound (500213, inbound).
            let other = try await harness.tokenRequest(
                creator: Self.contoso,
                path: path,
                form: Self.form + "&mock_home_tenant=\(Self.fabrikam)&mock_oid=0b5c8a31-2f4e-4d6a-8c7b-9e0f1a2b3c4d"
            )
            #expect(other.status == 403)
            let body = ProxyEndToEndTests.auditObject(other.body)
            #expect(body["error_codes"] as? [Int] == [500213])
            #expect((body["error_description"] as? String)?.hasPrefix("AADSTS500213:") == true)
            #expect((body["tenant_isolation"] as? [String: Any])?["directions"] as? [String] == ["inbound"])
            let refused = Self.lastAudit(harness)
            #expect(refused["decision"] as? String == "blocked")
            #expect(refused["setting"] as? String == "b2bCollaborationInbound")
            #expect(refused["error_code"] as? Int == 500213)
            #expect(
                (refused["rule"] as? String)?.contains("crossTenantAccess of Contoso: b2bCollaborationInbound") == true
            )
            #expect(refused["correlation_id"] as? String == body["correlation_id"] as? String)

            // A Northwind account as a guest in Contoso: Contoso admits it (default inbound), but Northwind's
            // outbound B2B collaboration blocks all its users (500212, outbound).
            let northwindGuest = try await harness.tokenRequest(
                creator: Self.contoso,
                path: path,
                form: Self.form + "&mock_home_tenant=\(Self.northwind)"
            )
            #expect(northwindGuest.status == 403)
            #expect(ProxyEndToEndTests.auditObject(northwindGuest.body)["error_codes"] as? [Int] == [500212])
            let outbound = Self.lastAudit(harness)
            #expect(outbound["setting"] as? String == "b2bCollaborationOutbound")
            #expect(outbound["directions"] as? [String] == ["outbound"])
            #expect((outbound["rule"] as? String)?.contains("crossTenantAccess of Northwind") == true)
            #expect(!harness.auditLines().joined().contains("c0de-s3cr3t"))
        }
    }

    /// A guest signing in by SAML or WS-Federation is a guest too: the assertion's `identityprovider` is read as a
    /// JWT's `idp`. Its object ID is the guest account's in the host tenant, not the user's at home, and no
    /// `client_info` comes with it: the user is unknown, and matches only `AllUsers`.
    @Test(arguments: ["saml2", "wsfed"])
    func guestSignInsBySAMLFollowB2BCollaboration(_ protocolPath: String) async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            func signIn(_ query: String) async throws -> LoopbackHarness.Response {
                try await harness.tokenRequest(
                    creator: Self.contoso,
                    path: "/\(Self.contoso)/\(protocolPath)",
                    form: query,
                    extraCurlArguments: ["-G"]
                )
            }
            // Contoso admits one Fabrikam user, named by their home object ID, which an assertion does not carry.
            let fabrikamGuest = try await signIn("mock_home_tenant=\(Self.fabrikam)&mock_oid=\(Self.invitedUser)")
            #expect(fabrikamGuest.status == 403)
            #expect(Self.lastAudit(harness)["setting"] as? String == "b2bCollaborationInbound")
            #expect(Self.lastAudit(harness)["home_tenant"] as? String == Self.fabrikam.description)
            let northwindGuest = try await signIn("mock_home_tenant=\(Self.northwind)")
            #expect(northwindGuest.status == 403)
            #expect(Self.lastAudit(harness)["setting"] as? String == "b2bCollaborationOutbound")
            let member = try await signIn("mock_oid=\(Self.invitedUser)")
            #expect(member.status == 200, "a Contoso member signing in to Contoso")
        }
    }

    @Test func foreignMemberAndGuestSignInsFollowTenantRestrictions() async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            // A Fabrikam account for a Contoso connection: Contoso's partner configuration allows Fabrikam.
            let fabrikam = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(fabrikam.status == 200)

            // An Adatum account: Contoso's default tenant restrictions block every other tenant's accounts.
            let adatum = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.adatum)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(adatum.status == 403)
            let body = ProxyEndToEndTests.auditObject(adatum.body)
            #expect(body["error_codes"] as? [Int] == [5_000_211])
            #expect((body["error_description"] as? String)?.hasPrefix("AADSTS5000211:") == true)
            #expect((body["tenant_isolation"] as? [String: Any])?["directions"] as? [String] == ["outbound"])
            let line = Self.lastAudit(harness)
            #expect(line["decision"] as? String == "blocked")
            #expect(line["setting"] as? String == "tenantRestrictions")
            #expect(line["sign_in_tenant"] as? String == Self.adatum.description)
            #expect((line["rule"] as? String)?.contains("tenantRestrictions (default)") == true)

            // A guest account in Adatum whose home is Fabrikam is as external to Contoso as an Adatum member is
            // (review 28: guests skipped the creator's tenant restrictions); a guest in Fabrikam is let through.
            let guest = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.adatum)/oauth2/v2.0/token",
                form: Self.form + "&mock_home_tenant=\(Self.fabrikam)"
            )
            #expect(guest.status == 403)
            let guestLine = Self.lastAudit(harness)
            #expect(guestLine["setting"] as? String == "tenantRestrictions", "\(guestLine)")
            #expect(guestLine["home_tenant"] as? String == Self.fabrikam.description)
            let fabrikamGuest = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: Self.form + "&mock_home_tenant=\(Self.adatum)"
            )
            #expect(fabrikamGuest.status == 200, "\(fabrikamGuest.body)")
        }
    }

    @Test func reportOnlyRecordsCrossTenantAccessRefusalsAsWouldBlock() async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies, configure: { $0.mode = .reportOnly })
        {
            harness in
            let adatum = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.adatum)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(adatum.status == 200)
            #expect(Self.lastAudit(harness)["decision"] as? String == "would_block")
            #expect(Self.lastAudit(harness)["setting"] as? String == "tenantRestrictions")
        }
    }

    /// An answer whose tenant cannot be read (an opaque access token, no ID token) meets the creator's settings too,
    /// fail closed as tenant isolation is: review 29 got tokens where a readable answer was refused, at another
    /// cloud's STS, at `/common` under tenant restrictions that refuse some tenant, and at a path naming a refused
    /// tenant. A path naming a tenant the settings allow still passes.
    @Test func unreadableAnswersMeetTheCreatorsSettingsFailClosed() async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            let opaque = Self.form + "&mock_token=opaque"
            func exchange(
                _ host: String,
                _ segment: String,
                issuing: TenantID? = nil
            ) async throws -> (Int, [String: Any]) {
                let answer = try await harness.tokenRequest(
                    creator: Self.contoso,
                    host: host,
                    path: "/\(segment)/oauth2/v2.0/token",
                    form: opaque + (issuing.map { "&mock_tid=\($0)" } ?? "")
                )
                #expect(answer.status == 200 || !answer.body.contains("EwBwA8l6BAAU"), "the token stays behind")
                return (answer.status, Self.lastAudit(harness))
            }
            let (china, chinaLine) = try await exchange(
                "login.partner.microsoftonline.cn",
                "common",
                issuing: Self.fabrikam
            )
            #expect(china == 403 && chinaLine["setting"] as? String == "allowedCloudEndpoints", "\(china) \(chinaLine)")
            let (common, commonLine) = try await exchange("login.microsoftonline.com", "common", issuing: Self.adatum)
            #expect(common == 403 && commonLine["setting"] as? String == "tenantRestrictions", "\(commonLine)")
            let (adatum, adatumLine) = try await exchange("login.microsoftonline.com", Self.adatum.description)
            #expect(adatum == 403 && adatumLine["setting"] as? String == "tenantRestrictions", "\(adatumLine)")
            #expect(adatumLine["sign_in_tenant"] as? String == Self.adatum.description)
            let (fabrikam, fabrikamLine) = try await exchange("login.microsoftonline.com", Self.fabrikam.description)
            #expect(fabrikam == 200, "\(fabrikamLine)")
        }
    }

    /// An ID token handed over without `profile` names no user (Entra's carry `oid` only with it), and no access
    /// token stands beside it to name one: Contoso's block of one Northwind user could be that user, so it is refused
    /// (review 29: it passed). The named user is refused, another user with `profile` passes.
    @Test func anIDTokenNamingNoUserMeetsABlockOfNamedUsers() async throws {
        let blockedUser = Self.blockedNorthwindUser
        try await ServeProcess.with(policies: try Self.policiesBlockingANorthwindUser()) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            func signIn(_ scope: String, _ extra: String = "") async throws -> Int {
                let path =
                    "/\(Self.northwind)/oauth2/v2.0/authorize?response_type=id_token&response_mode=form_post"
                    + "&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&scope=\(scope)\(extra)"
                return try await serve.curl(maker + ["https://login.microsoftonline.com\(path)"]).status
            }
            #expect(try await signIn("openid") == 403)
            #expect(try await signIn("openid+profile", "&mock_oid=\(blockedUser)") == 403)
            #expect(try await signIn("openid+profile") == 200)
            let lines = serve.auditObjects()
            #expect(lines.map { $0["decision"] as? String } == ["blocked", "blocked", "allowed"], "\(lines)")
            #expect(lines.first?["setting"] as? String == "tenantRestrictions", "\(lines)")
            #expect((lines.first?["reason"] as? String)?.contains("could be one of") == true, "\(lines)")
        }
    }

    /// A target written in the braced, upper-case form Graph tooling prints blocks the user it names, as the plain
    /// form does (review 54: `validate` took it, and the user's sign-in passed).
    @Test func aTargetWrittenInAnotherSpellingOfItsIDStillBlocks() async throws {
        let braced = "'{\(Self.blockedNorthwindUser.uppercased())}'"
        try await ServeProcess.with(policies: try Self.policiesBlockingNorthwind(braced, targetType: "user")) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let path =
                "/\(Self.northwind)/oauth2/v2.0/authorize?response_type=id_token&response_mode=form_post"
                + "&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&scope=openid+profile"
            let url = "https://login.microsoftonline.com\(path)"
            #expect(try await serve.curl(maker + [url + "&mock_oid=\(Self.blockedNorthwindUser)"]).status == 403)
            #expect(try await serve.curl(maker + [url]).status == 200)
            #expect(serve.auditObjects().first?["setting"] as? String == "tenantRestrictions")
        }
    }

    static let blockedNorthwindUser = "7d3e1f20-4b5c-4a69-8e7f-90a1b2c3d4e5"
    static let blockedNorthwindGroup = "3c9a7e51-2d4b-4f60-9a8e-1b2c3d4e5f60"

    /// These policies (with the resource hosts' directory) and Contoso's tenant restrictions toward Northwind
    /// blocking one user (`blockedNorthwindUser`) at every application.
    static func policiesBlockingANorthwindUser() throws -> String {
        try policiesBlockingNorthwind(blockedNorthwindUser, targetType: "user")
    }

    /// These policies, with Contoso's tenant restrictions toward Northwind blocking `target` at every application.
    static func policiesBlockingNorthwind(_ target: String, targetType: String) throws -> String {
        let directory = try ResourceHostEndToEndTests.policies(from: Self.policies)
        let contoso = URL(fileURLWithPath: directory).appendingPathComponent("contoso.yaml")
        let northwind = """
                - tenantId: \(Self.northwind)
                  tenantRestrictions:
                    usersAndGroups: {accessType: blocked, targets: [{target: \(target), targetType: \(targetType)}]}
                    applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}

            """
        try (String(contentsOf: contoso, encoding: .utf8) + northwind).write(
            to: contoso,
            atomically: true,
            encoding: .utf8
        )
        return directory
    }

    /// A user in more groups than a token lists gets a token in overage: no `groups`, a Graph link in their place.
    /// Such a user may be in the group Contoso blocks, so the sign-in is refused (it passed as "in no group"); a token
    /// listing other groups passes, one listing the blocked group does not.
    @Test func aTokenThatCannotListItsGroupsMeetsABlockOfNamedGroups() async throws {
        let policies = try Self.policiesBlockingNorthwind(Self.blockedNorthwindGroup, targetType: "group")
        try await ServeProcess.with(policies: policies) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            func exchange(_ fields: String) async throws -> Int {
                try await serve.curl(
                    maker + [
                        "-d", Self.form + "&" + fields,
                        "https://login.microsoftonline.com/\(Self.northwind)/oauth2/v2.0/token",
                    ]
                ).status
            }
            #expect(try await exchange("mock_groups_overage=1") == 403)
            #expect(try await exchange("mock_groups=\(UUID().uuidString.lowercased())") == 200)
            #expect(try await exchange("mock_groups=g2,\(Self.blockedNorthwindGroup)") == 403)
            let lines = serve.auditObjects()
            #expect(lines.map { $0["decision"] as? String } == ["blocked", "allowed", "blocked"], "\(lines)")
            #expect(lines.first?["setting"] as? String == "tenantRestrictions", "\(lines)")
            #expect((lines.first?["reason"] as? String)?.contains("whose groups are not known") == true, "\(lines)")
        }
    }

    @Test func otherCloudSignInsNeedTheCloudAndAPartner() async throws {
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            let host = "login.microsoftonline.us"
            // Woodgrove is a partner and the US Government cloud is allowed.
            let woodgrove = try await harness.tokenRequest(
                creator: Self.contoso,
                host: host,
                path: "/\(Self.woodgrove)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(woodgrove.status == 200)
            #expect(Self.lastAudit(harness)["host"] as? String == host)

            // Northwind at the US Government STS is no partner of Contoso: refused.
            let northwind = try await harness.tokenRequest(
                creator: Self.contoso,
                host: host,
                path: "/\(Self.northwind)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(northwind.status == 403)
            let line = Self.lastAudit(harness)
            #expect(line["setting"] as? String == "allowedCloudEndpoints")
            #expect((line["reason"] as? String)?.contains("not among its partners") == true)

            // Under the seed's policies Contoso has no cross-tenant access settings: no other cloud is allowed.
            try harness.usePolicies(ProxyEndToEndTests.policies)
            let again = try await harness.tokenRequest(
                creator: Self.contoso,
                host: host,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(again.status == 403)
            #expect((Self.lastAudit(harness)["reason"] as? String)?.contains("allowedCloudEndpoints") == true)
            // The cloud is the token's issuer's too: a US Government token through the global host, where Fabrikam
            // is allowed, is judged as one (review 25).
            let fabrikamForm = Self.form + "&mock_tid=\(Self.fabrikam)"
            let global = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/common/oauth2/v2.0/token",
                form: fabrikamForm
            )
            #expect(global.status == 200)
            let throughGlobal = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/common/oauth2/v2.0/token",
                form: fabrikamForm + "&mock_issuer_host=\(host)"
            )
            #expect(throughGlobal.status == 403)
            #expect((Self.lastAudit(harness)["reason"] as? String)?.contains("allowedCloudEndpoints") == true)
        }
    }

    @Test func tenantRestrictionsV2HeadersReplaceTheClientsWhenConfigured() async throws {
        let restrictions = try #require(
            TenantRestrictionsV2(parsing: "\(Self.contoso):9f4e6c2a-1b3d-4e5f-8a7b-6c5d4e3f2a1b")
        )
        let clientHeaders = [
            "-H", "sec-Restrict-Tenant-Access-Policy: restrict-msa", "-H", "Restrict-Access-To-Tenants: evil.example",
            "-H", "Restrict-Access-Context: \(Self.northwind)",
        ]
        func receivedHeaders(
            _ harness: LoopbackHarness,
            host: String = "login.microsoftonline.com"
        ) async throws -> [String: [String]] {
            let output = try await Curl.run(
                [
                    "-s", "-m", "20", "--proxy", "http://127.0.0.1:\(harness.proxyPort)", "--cacert", harness.caPath,
                    "https://\(host)/mock/headers",
                ] + clientHeaders
            )
            return (try JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: [String]] ?? [:]
        }
        try await ProxyEndToEndTests.withHarness(
            policiesDirectory: Self.policies,
            configure: { $0.tenantRestrictionsV2 = restrictions }
        ) { harness in
            // On the hosts Microsoft lists and on the other ESTS front ends (review 28 reached Entra through these
            // with its own headers).
            for host in ["login.microsoftonline.com", "loginex.microsoftonline.com", "ccs.login.microsoftonline.com"] {
                let received = try await receivedHeaders(harness, host: host)
                #expect(received["sec-restrict-tenant-access-policy"] == [restrictions.headerValue], "\(host)")
                #expect(received["restrict-access-to-tenants"] == nil, "\(host)")
                #expect(received["restrict-access-context"] == nil, "\(host)")
            }
            // Token exchanges still work with the header added.
            let exchange = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: Self.form
            )
            #expect(exchange.status == 200)
        }
        // Off by default: what the client sent goes through untouched.
        try await ProxyEndToEndTests.withHarness(policiesDirectory: Self.policies) { harness in
            let received = try await receivedHeaders(harness)
            #expect(received["sec-restrict-tenant-access-policy"] == ["restrict-msa"])
            #expect(received["restrict-access-to-tenants"] == ["evil.example"])
        }
    }

    @Test func settingsPrintsTheEffectiveSettingsAndRefusesUnknownTenants() throws {
        try SettingsCommand.parse(
            [
                "--policies", Self.policies, "--tenant", "contoso.onmicrosoft.com", "--partner",
                "fabrikam.onmicrosoft.com",
            ]
        ).run()
        #expect(throws: ExitCode.badInput) {
            try SettingsCommand.parse(
                ["--policies", Self.policies, "--tenant", "contoso.onmicrosoft.com", "--partner", "nowhere.example"]
            ).run()
        }
    }

    @Test func checkAnswersSeed002sNineRowsFromTheCommandLine() throws {
        let directory = "\(ProxyEndToEndTests.repository)/policies/seed-002-cross-tenant-access"
        // Rows 1-9 for (g1 member at a1, g1 member at a2, other user at a1, other user at a2), from the seed's
        // interpretation column.
        let expected: [[Bool]] = [
            [false, false, false, false], [true, true, true, true], [true, true, false, false],
            [true, false, true, false], [false, true, false, false], [false, false, true, true],
            [false, false, true, false], [true, false, false, false], [false, true, true, true],
        ]
        for (index, row) in expected.enumerated() {
            var answers: [Bool] = []
            for user in [["--user", "u1", "--group", "g1"], ["--user", "u2"]] {
                for app in ["a1", "a2"] {
                    let command = try CheckCommand.parse(
                        [
                            "--policies", directory, "--kind", "b2b-collaboration", "--direction", "inbound",
                            "--tenant", "contoso.onmicrosoft.com", "--partner", "row\(index + 1).example", "--app", app,
                        ]
                            + user
                    )
                    do {
                        try command.run()
                        answers.append(true)
                    } catch let exit as ExitCode where exit == .blocked {
                        answers.append(false)
                    }
                }
            }
            #expect(answers == row, "row \(index + 1)")
        }
    }
}
