import Audit
import CrossTenantAccess
import ExchangePolicy
import Foundation
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

/// The decision glue of SPEC 2 and 3, without sockets: pre-check from the path, judgement of the response.
struct ExchangeDeciderTests {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind

    static func decider(_ nonEntra: NonEntraSTSMode = .audit, mode: EnforcementMode = .enforce) -> ExchangeDecider {
        var directory = TenantDirectory()
        directory.register(domain: "fabrikam.com", for: fabrikam)
        let set = PolicySet(
            tenants: [
                GovernedTenant(
                    id: contoso,
                    displayName: "Contoso",
                    isolation: IsolationPolicy(
                        tenantID: contoso,
                        isEnabled: true,
                        rules: [IsolationRule(subject: .tenant(fabrikam), directions: .outbound)]
                    )
                )
            ],
            directory: directory
        )
        return ExchangeDecider(policies: set, nonEntraSTS: nonEntra, mode: mode)
    }

    static func endpoint(_ segment: String) -> TokenEndpoint {
        TokenEndpoint.match(host: "login.microsoftonline.com", path: "/\(segment)/oauth2/v2.0/token")!
    }

    static func evidence(signIn: TenantID?, success: Bool = true) -> TokenResponseEvidence {
        var evidence = TokenResponseEvidence()
        evidence.isSuccess = success
        evidence.signInTenant = signIn
        evidence.isEntraToken = signIn != nil
        if signIn == nil { evidence.unreadableReason = "opaque" }
        return evidence
    }

    @Test func pathTenantsArePrecheckedByGUIDAndDomain() {
        #expect(
            Self.decider().preCheck(creator: Self.contoso, endpoint: Self.endpoint("fabrikam.com"))
                == .forward(expectedSignIn: Self.fabrikam)
        )
        #expect(
            Self.decider().preCheck(creator: Self.contoso, endpoint: Self.endpoint("common"))
                == .forward(expectedSignIn: nil)
        )
        guard
            case .refuse(let verdict) = Self.decider().preCheck(
                creator: Self.contoso,
                endpoint: Self.endpoint(Self.northwind.description)
            )
        else {
            Issue.record("Northwind must be refused before sending")
            return
        }
        #expect(verdict.directions == [.outbound])
        #expect(verdict.errorCodes == [500212])
    }

    /// An opaque answer is judged by the request's client_id against Contoso's tenant restrictions, which block one
    /// application: every spelling Entra reads as that GUID is refused, and a client_id that is no GUID at all is an
    /// unknown application, which could be the blocked one (reviews 54 and 55).
    @Test(arguments: [
        ("9e1f3c55-0d4b-4a8e-b6f2-3c7d8e9f0a1b", true),
        ("{9E1F3C55-0D4B-4A8E-B6F2-3C7D8E9F0A1B}", true),
        ("\u{0B}9e1f3c550d4b4a8eb6f23c7d8e9f0a1b\u{A0}", true),
        ("(9e1f3c55-0d4b-4a8e-b6f2-3c7d8e9f0a1b)\r\n", true),
        ("{0x9e1f3c55,0x0d4b,0x4a8e,{0xb6,0xf2,0x3c,0x7d,0x8e,0x9f,0x0a,0x1b}}", true),
        ("e002ab83-2360-4092-bd0b-5a4c52f2f15a", false),
    ])
    func anOpaqueAnswersClientIDIsReadAsEntraReadsIt(clientID: String, refused: Bool) throws {
        let settings = try CrossTenantAccessPolicy.decode(
            from: Data(
                #"""
                {"default": {"tenantRestrictions": {
                  "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
                  "applications": {"accessType": "blocked", "targets": [{"target": "9e1f3c55-0d4b-4a8e-b6f2-3c7d8e9f0a1b", "targetType": "application"}]}
                }}}
                """#.utf8
            )
        )
        let decider = ExchangeDecider(
            policies: PolicySet(),
            crossTenantAccess: [Self.contoso: settings],
            nonEntraSTS: .audit
        )
        let verdict = decider.judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint(Self.fabrikam.description),
            status: 200,
            evidence: Self.evidence(signIn: nil),
            expectedSignIn: Self.fabrikam,
            clientID: clientID
        )
        #expect((verdict.outcome == .block) == refused, "\(verdict.reason)")
    }

    @Test func responseDecidesWhenThePathNamesNoTenant() {
        let verdict = Self.decider().judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint("organizations"),
            status: 200,
            evidence: Self.evidence(signIn: Self.northwind),
            expectedSignIn: nil
        )
        #expect(verdict.outcome == .block)
        #expect(verdict.signInTenant == Self.northwind)
    }

    @Test func aPairJudgedAgainGetsTheSameVerdictAndEachGuestItsOwnHomeTenant() {
        let decider = Self.decider()
        for signIn in [Self.fabrikam, Self.northwind, Self.contoso] {
            var guest = Self.evidence(signIn: signIn)
            guest.homeTenant = Self.northwind
            let first = decider.judgeResponse(
                creator: Self.contoso,
                endpoint: Self.endpoint("organizations"),
                status: 200,
                evidence: guest,
                expectedSignIn: nil
            )
            let again = decider.judgeResponse(
                creator: Self.contoso,
                endpoint: Self.endpoint("organizations"),
                status: 200,
                evidence: Self.evidence(signIn: signIn),
                expectedSignIn: nil
            )
            #expect(first.homeTenant == Self.northwind)
            #expect(again.homeTenant == nil)
            var withoutHome = first
            withoutHome.homeTenant = nil
            #expect(again == withoutHome)
        }
    }

    /// Unreadable: blocked by the creator's own isolation, or because some governed tenant's inbound isolation
    /// could refuse it (the token might be that tenant's); allowed only when no tenant could refuse.
    @Test func unreadableTokenFailsClosedWheneverATenantCouldRefuse() {
        let blocked = Self.decider().judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint("common"),
            status: 200,
            evidence: Self.evidence(signIn: nil),
            expectedSignIn: nil
        )
        #expect(blocked.outcome == .block)
        #expect(blocked.reason.contains("could not be read (opaque)"))
        let inbound = Self.decider().judgeResponse(
            creator: Self.northwind,
            endpoint: Self.endpoint("common"),
            status: 200,
            evidence: Self.evidence(signIn: nil),
            expectedSignIn: nil
        )
        #expect(inbound.outcome == .block)
        #expect(inbound.directions == [.inbound])
        #expect(inbound.reason.contains("Contoso"))
        let nobodyRefuses = ExchangeDecider(policies: PolicySet(), nonEntraSTS: .audit).judgeResponse(
            creator: Self.fabrikam,
            endpoint: Self.endpoint("common"),
            status: 200,
            evidence: Self.evidence(signIn: nil),
            expectedSignIn: nil
        )
        #expect(nobodyRefuses.outcome == .allow)
    }

    /// A 2xx answer without any token is not "nothing to judge": it may hide one.
    @Test func aSuccessfulAnswerWithoutATokenIsJudged() {
        let verdict = Self.decider().judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint("common"),
            status: 200,
            evidence: Self.evidence(signIn: nil, success: false),
            expectedSignIn: nil
        )
        #expect(verdict.outcome == .block)
    }

    @Test func pathAndResponseMustAgree() {
        let verdict = Self.decider().judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint(Self.fabrikam.description),
            status: 200,
            evidence: Self.evidence(signIn: Self.northwind),
            expectedSignIn: Self.fabrikam
        )
        #expect(verdict.outcome == .block)
        #expect(verdict.reason.contains("disagree"))
    }

    @Test func stsErrorsHaveNothingToJudge() {
        var evidence = Self.evidence(signIn: nil, success: false)
        evidence.errorCode = "invalid_grant"
        let verdict = Self.decider().judgeResponse(
            creator: Self.contoso,
            endpoint: Self.endpoint("common"),
            status: 400,
            evidence: evidence,
            expectedSignIn: nil
        )
        #expect(verdict.outcome == .allow)
        #expect(verdict.reason.contains("invalid_grant"))
    }

    @Test func nonEntraSTSIsUnenforcedOrRefused() {
        let ado = TokenEndpoint.match(host: "app.vssps.visualstudio.com", path: "/oauth2/token")!
        #expect(
            Self.decider().judgeResponse(
                creator: Self.contoso,
                endpoint: ado,
                status: 200,
                evidence: Self.evidence(signIn: nil),
                expectedSignIn: nil
            ).outcome == .unenforced
        )
        guard case .refuse(let verdict) = Self.decider(.block).preCheck(creator: Self.contoso, endpoint: ado) else {
            Issue.record("block mode must refuse before sending")
            return
        }
        #expect(verdict.reason.contains("not a Microsoft Entra STS"))
        // A token it hands over anyway (another path, judged on the answer) is refused too.
        let handedOver = Self.decider(.block).judgeResponse(
            creator: Self.contoso,
            endpoint: ado,
            status: 200,
            evidence: Self.evidence(signIn: nil),
            expectedSignIn: nil
        )
        #expect(handedOver.outcome == .block && handedOver.reason.contains("not a Microsoft Entra STS"))
    }

    /// A personal-account ID token the Microsoft account STS hands over is judged as the same sign-in at Entra's
    /// hosts: refused where tenant isolation refuses it. Under `--non-entra-sts block` the STS stays refused.
    @Test func theMicrosoftAccountSTSsIDTokenIsJudged() throws {
        let msa = try #require(TokenEndpoint.match(host: "login.live.com", path: "/oauth20_token.srf"))
        func judged(_ decider: ExchangeDecider) -> ExchangeVerdict {
            decider.judgeResponse(
                creator: Self.contoso,
                endpoint: msa,
                status: 200,
                evidence: Self.evidence(signIn: .microsoftAccounts),
                expectedSignIn: nil
            )
        }
        let verdict = judged(Self.decider())
        #expect(verdict.outcome == .block && verdict.signInTenant == .microsoftAccounts)
        #expect(verdict.setting == "tenantIsolation")
        #expect(judged(Self.decider(.block)).reason.contains("not a Microsoft Entra STS"))
    }

    /// Report-only shows what enforcing would do: a refused non-Entra STS is `would_block`, not `unenforced`, even
    /// when it issues its token.
    @Test(arguments: [true, false])
    func aRefusedNonEntraSTSStaysRefusedInReportOnlyMode(_ issued: Bool) throws {
        let ado = try #require(TokenEndpoint.match(host: "app.vssps.visualstudio.com", path: "/oauth2/token"))
        let decider = Self.decider(.block, mode: .reportOnly)
        guard case .forward(let expected, let earlierRefusal?) = decider.plan(creator: Self.contoso, endpoint: ado)
        else {
            Issue.record("report-only forwards the request with the refusal riding along")
            return
        }
        let verdict = decider.judgeResponse(
            creator: Self.contoso,
            endpoint: ado,
            status: issued ? 200 : 400,
            evidence: Self.evidence(signIn: nil, success: issued),
            expectedSignIn: expected,
            earlierRefusal: earlierRefusal
        )
        #expect(verdict.outcome == .block)
        #expect(decider.outcome(verdict, upstreamAnswerReadable: true).decision == .wouldBlock)
    }

    @Test func blockedBodyHasTheContractShape() throws {
        let verdict = ExchangeVerdict(
            outcome: .block,
            directions: [.outbound, .inbound],
            creatorTenant: Self.contoso,
            signInTenant: Self.northwind,
            reason: "why",
            errorCodes: [500212, 500213]
        )
        let body = BlockedResponseBody(
            verdict: verdict,
            correlationID: UUID(),
            traceID: UUID(),
            timestamp: Date(timeIntervalSince1970: 0)
        )
        let object = try #require(try JSONSerialization.jsonObject(with: body.json()) as? [String: Any])
        #expect(object["error"] as? String == "access_denied")
        #expect((object["error_description"] as? String)?.hasPrefix("AADSTS500212: ") == true)
        #expect(object["error_codes"] as? [Int] == [500212, 500213])
        #expect(object["timestamp"] as? String == "1970-01-01T00:00:00Z")
        let isolation = try #require(object["tenant_isolation"] as? [String: Any])
        #expect(isolation["decision"] as? String == "blocked")
        #expect(isolation["directions"] as? [String] == ["outbound", "inbound"])
        #expect(
            Set(object.keys) == [
                "error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id",
                "tenant_isolation",
            ]
        )
    }

    /// Tokens handed over outside the token endpoint: refused outright under `--token-flows refuse`, judged like a
    /// token response (here an allowed Fabrikam token) under `judge`.
    @Test func tokenFlowsAreRefusedOrJudgedAsConfigured() throws {
        let endpoint = try #require(
            TokenEndpoint.flow(host: "login.microsoftonline.com", path: "/\(Self.fabrikam)/oauth2/v2.0/authorize")
        )
        let carriers = TokenCarriers.scan(
            contentTypes: ["text/html"],
            body: Array(#"<form><input type="hidden" name="code" value="0.AAA"></form>"#.utf8),
            location: nil
        )
        let refused = Self.decider().judgeTokenFlow(
            carriers,
            creator: Self.contoso,
            endpoint: endpoint,
            host: "login.microsoftonline.com",
            handling: .refuse
        )
        #expect(refused.outcome == .block)
        #expect(refused.setting == "tokenFlows")
        #expect(refused.errorCodes == [500212])
        #expect(refused.reason.contains("--token-flows judge"))
        let judged = Self.decider().judgeTokenFlow(
            carriers,
            creator: Self.contoso,
            endpoint: endpoint,
            host: "login.microsoftonline.com",
            handling: .judge
        )
        #expect(judged.setting != "tokenFlows")
    }

    /// A pre-check refusal is final when enforcing, and rides along with the forwarded request in report-only mode.
    @Test func thePlanFollowsTheMode() throws {
        let blocked = Self.endpoint(Self.northwind.description)
        guard
            case .refuseNow(let verdict) = Self.decider().plan(creator: Self.contoso, endpoint: blocked)
        else {
            Issue.record("enforcing, a blocked path tenant is refused before anything goes upstream")
            return
        }
        #expect(verdict.outcome == .block)
        #expect(
            Self.decider(mode: .reportOnly).plan(creator: Self.contoso, endpoint: blocked)
                == .forward(expectedSignIn: Self.northwind, earlierRefusal: verdict)
        )
        #expect(
            Self.decider().plan(creator: Self.contoso, endpoint: Self.endpoint("common"))
                == .forward(expectedSignIn: nil, earlierRefusal: nil)
        )
    }
}
