import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import Testing
import TokenInspection

@testable import ProxyServer

/// Each request's way through the session machine, one event and its whole action at a time: what goes upstream,
/// the audit line the decider's verdict makes (with the request's correlation ID and the deciding event's time),
/// and the answer. The verdicts themselves are `ExchangeDeciderTests`'.
struct RequestStateMachineTests {
    typealias Machines = SessionMachines
    static let (s1, s2, s3) = (Fixtures.stamp(1), Fixtures.stamp(2), Fixtures.stamp(3))
    static let organizations = SessionMachines.organizations
    static let form = Fixtures.form()
    static let tokenRecord = ExchangeRecord(
        host: Fixtures.host,
        path: organizations,
        clientID: "app",
        correlationID: s1.correlationID
    )

    static func judged(
        _ response: NIOHTTPClientResponseFull,
        decider: ExchangeDecider = Fixtures.decider()
    )
        -> ExchangeVerdict
    {
        let endpoint = Fixtures.endpoint(organizations)
        return decider.judgeResponse(
            creator: Fixtures.contoso,
            endpoint: endpoint,
            status: Int(response.head.status.code),
            evidence: TokenResponseInspector.inspect(body: response.body!.readableBytesView, endpoint: endpoint),
            expectedSignIn: nil,
            clientID: "app"
        )
    }

    /// The line and answer of an STS answer outside the token endpoint that hands over a token, judged at s2.
    static func judgedFlow(
        _ response: NIOHTTPClientResponseFull,
        path: String,
        handling: TokenFlowHandling
    ) -> (AuditEvent, SessionAnswer) {
        let endpoint = TokenEndpoint.flow(host: Fixtures.host, path: path)!
        let carriers = TokenCarriers.scan(
            contentTypes: response.head.headers["content-type"],
            body: response.body!.readableBytesView,
            location: response.head.headers.first(name: "location")
        )
        let verdict = Fixtures.decider().judgeTokenFlow(
            carriers,
            creator: Fixtures.contoso,
            endpoint: endpoint,
            host: Fixtures.host,
            handling: handling
        )
        let record = ExchangeRecord(host: Fixtures.host, path: path, clientID: nil, correlationID: s2.correlationID)
        let body = BlockedResponseBody(
            verdict: verdict,
            correlationID: s2.correlationID,
            traceID: s2.traceID,
            timestamp: s2.date
        )
        return (Fixtures.line(verdict, record, at: s2), Fixtures.own(.blocked(body), keepAlive: true, started: s2))
    }

    @Test func anAllowedExchangeGoesUpstreamIsAuditedThenAnswered() {
        var machine = Machines.make()
        let request = Fixtures.request(Self.organizations)
        #expect(
            Machines.send(request, to: &machine, at: Self.s1)
                == .forward(Fixtures.upstream(request, contentLength: Self.form.readableBytes), body: Self.form)
        )
        let token = Fixtures.tokenAnswer(tenant: Fixtures.fabrikam)
        let line = Fixtures.line(Self.judged(token), Self.tokenRecord, at: Self.s2)
        #expect(line.decision == .allowed && line.signInTenant == Fixtures.fabrikam)
        #expect(machine.upstreamResponded(token, at: Self.s2) == .writeAudit(line))
        #expect(machine.auditWritten() == .answer(Fixtures.forwarded(token, started: Self.s1)))
        #expect(machine.answerSent(at: Self.s3) == .none)
    }

    /// A policy change acknowledged while the request was upstream applies to its answer: review 19 saw a Fabrikam
    /// token reach the client 2.4 s after the rule allowing it was deleted, audited under that rule.
    @Test func theAnswerIsJudgedByThePolicyInForceWhenItComes() {
        var current = Fixtures.decider()
        var machine = Machines.make(currentDecider: { current })
        let request = Fixtures.request(Self.organizations)
        #expect(
            Machines.send(request, to: &machine, at: Self.s1)
                == .forward(Fixtures.upstream(request, contentLength: Self.form.readableBytes), body: Self.form)
        )
        current = Fixtures.decider(rules: [])
        let token = Fixtures.tokenAnswer(tenant: Fixtures.fabrikam)
        let line = Fixtures.line(Self.judged(token, decider: current), Self.tokenRecord, at: Self.s2)
        #expect(line.decision == .blocked)
        #expect(machine.upstreamResponded(token, at: Self.s2) == .writeAudit(line))
    }

    @Test func aPathTenantThatIsRefusedNeverGoesUpstream() {
        var machine = Machines.make()
        let path = "/\(Fixtures.northwind)/oauth2/v2.0/token"
        guard
            case .refuseNow(let verdict) = Fixtures.decider().plan(
                creator: Fixtures.contoso,
                endpoint: Fixtures.endpoint(path)
            )
        else {
            Issue.record("the decider refuses Northwind's path")
            return
        }
        let record = ExchangeRecord(
            host: Fixtures.host,
            path: path,
            clientID: "app",
            correlationID: Self.s1.correlationID
        )
        let line = Fixtures.line(verdict, record, at: Self.s1, readable: false)
        #expect(line.decision == .blocked && line.errorCode == 500212)
        #expect(Machines.send(Fixtures.request(path), to: &machine, at: Self.s1) == .writeAudit(line))
        let body = BlockedResponseBody(
            verdict: verdict,
            correlationID: Self.s1.correlationID,
            traceID: Self.s1.traceID,
            timestamp: Self.s1.date
        )
        #expect(machine.auditWritten() == .answer(Fixtures.own(.blocked(body), keepAlive: true, started: Self.s1)))
    }

    @Test func aTokenOfARefusedTenantIsWithheld() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1)
        let token = Fixtures.tokenAnswer(tenant: Fixtures.northwind)
        let verdict = Self.judged(token)
        let line = Fixtures.line(verdict, Self.tokenRecord, at: Self.s2)
        #expect(line.decision == .blocked && line.directions == [.outbound])
        #expect(machine.upstreamResponded(token, at: Self.s2) == .writeAudit(line))
        let body = BlockedResponseBody(
            verdict: verdict,
            correlationID: Self.s1.correlationID,
            traceID: Self.s2.traceID,
            timestamp: Self.s2.date
        )
        let answer = Fixtures.own(.blocked(body), keepAlive: true, started: Self.s1)
        #expect(!String(buffer: answer.body!).contains("access_token"))
        #expect(machine.auditWritten() == .answer(answer))
    }

    @Test func reportOnlyLetsARefusedPathGoAndRecordsWouldBlock() {
        var machine = Machines.make(mode: .reportOnly)
        let path = "/\(Fixtures.northwind)/oauth2/v2.0/token"
        let request = Fixtures.request(path)
        #expect(
            Machines.send(request, to: &machine, at: Self.s1)
                == .forward(Fixtures.upstream(request, contentLength: Self.form.readableBytes), body: Self.form)
        )
        let decider = Fixtures.decider(mode: .reportOnly)
        let endpoint = Fixtures.endpoint(path)
        guard
            case .forward(let expected, let earlierRefusal?) = decider.plan(
                creator: Fixtures.contoso,
                endpoint: endpoint
            )
        else {
            Issue.record("report-only lets the refused path go, its refusal riding along")
            return
        }
        let refusal = Fixtures.answer(.badRequest, #"{"error":"invalid_client"}"#)
        let verdict = decider.judgeResponse(
            creator: Fixtures.contoso,
            endpoint: endpoint,
            status: 400,
            evidence: TokenResponseInspector.inspect(body: refusal.body!.readableBytesView, endpoint: endpoint),
            expectedSignIn: expected,
            clientID: "app",
            earlierRefusal: earlierRefusal
        )
        let record = ExchangeRecord(
            host: Fixtures.host,
            path: path,
            clientID: "app",
            correlationID: Self.s1.correlationID
        )
        let line = Fixtures.line(verdict, record, at: Self.s2, mode: .reportOnly)
        #expect(line.decision == .wouldBlock)
        #expect(machine.upstreamResponded(refusal, at: Self.s2) == .writeAudit(line))
        #expect(machine.auditWritten() == .answer(Fixtures.forwarded(refusal, started: Self.s1)))
    }

    @Test func anAnswerInAnUnreadableEncodingIsRefused() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1)
        let encoded = Fixtures.tokenAnswer(tenant: Fixtures.fabrikam, headers: ["content-encoding": "br"])
        let verdict = Fixtures.decider().judgeUnreadable(
            creator: Fixtures.contoso,
            endpoint: Fixtures.endpoint(Self.organizations),
            why: "the answer is encoded as 'br', which cannot be inspected"
        )
        let line = Fixtures.line(verdict, Self.tokenRecord, at: Self.s2, readable: false)
        #expect(line.decision == .blocked)
        #expect(machine.upstreamResponded(encoded, at: Self.s2) == .writeAudit(line))
        let body = BlockedResponseBody(
            verdict: verdict,
            correlationID: Self.s1.correlationID,
            traceID: Self.s2.traceID,
            timestamp: Self.s2.date
        )
        #expect(machine.auditWritten() == .answer(Fixtures.own(.blocked(body), keepAlive: true, started: Self.s1)))
    }

    @Test func anUnwrittenAuditLineRefusesTheExchangeAndEndsTheSession() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1)
        _ = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam), at: Self.s2)
        let refusal = ProxyAnswer.error(
            .serviceUnavailable,
            "audit_unavailable",
            "the audit log could not be written, so the exchange is refused",
            correlationID: Self.s1.correlationID,
            at: Self.s3.date
        )
        #expect(
            machine.auditFailed(correlationID: Self.s1.correlationID, at: Self.s3)
                == .answer(Fixtures.own(refusal, keepAlive: false))
        )
        #expect(machine.answerSent(at: Self.s3) == .none)
    }

    @Test func anUpstreamFailureOfATokenExchangeIsAuditedAndClosesTheSession() {
        var machine = Machines.make()
        _ = Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1)
        let line = Self.tokenRecord.event(
            decision: .error,
            creator: Fixtures.contoso,
            signIn: nil,
            reason: "upstream failure: \(UpstreamError.timedOut.detail)",
            at: Self.s2.date
        )
        #expect(machine.upstreamFailed(.timedOut, at: Self.s2) == .writeAudit(line))
        let answer = ProxyAnswer.error(
            .gatewayTimeout,
            "upstream_error",
            UpstreamError.timedOut.detail,
            correlationID: Self.s1.correlationID,
            at: Self.s2.date
        )
        #expect(machine.auditWritten() == .answer(Fixtures.own(answer, keepAlive: false)))
    }

    @Test func otherRequestsPassThroughUnaudited() {
        var machine = Machines.make()
        let discovery = Fixtures.request(.GET, "/common/v2.0/.well-known/openid-configuration")
        #expect(
            Machines.send(discovery, body: nil, to: &machine, at: Self.s1)
                == .forward(Fixtures.upstream(discovery), body: nil)
        )
        let response = Fixtures.answer(.ok, "{}", headers: ["connection": "keep-alive", "x-ms-request-id": "1"])
        let answer = Fixtures.forwarded(response)
        #expect(answer.headers == ["x-ms-request-id": "1"])
        #expect(machine.upstreamResponded(response, at: Self.s2) == .answer(answer))
        #expect(machine.answerSent(at: Self.s3) == .none)
    }

    @Test func tokensHandedOverOutsideTheTokenEndpointAreJudged() {
        var machine = Machines.make()
        let path = "/organizations/oauth2/v2.0/authorize?response_mode=form_post"
        _ = Machines.send(Fixtures.request(.GET, path), body: nil, to: &machine, at: Self.s1)
        let token = Fixtures.token(tenant: Fixtures.northwind)
        let page = Fixtures.answer(
            .ok,
            #"<form method="post"><input type="hidden" name="id_token" value="\#(token)"/></form>"#,
            headers: ["content-type": "text/html"]
        )
        let (line, answer) = Self.judgedFlow(page, path: path, handling: .judge)
        #expect(line.decision == .blocked && line.path == "/organizations/oauth2/v2.0/authorize")
        #expect(machine.upstreamResponded(page, at: Self.s2) == .writeAudit(line))
        #expect(machine.auditWritten() == .answer(answer))
    }

    /// A token endpoint's answer that hands the token over in a redirect's `Location` is judged as on the STS's
    /// other paths: review 25 saw it reach the client audited "allowed, without a token".
    @Test func aTokenInTheTokenEndpointsRedirectIsJudged() {
        var machine = Machines.make(currentDecider: { Fixtures.decider(rules: []) })
        _ = Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1)
        let redirect = Fixtures.answer(
            .found,
            "",
            headers: [
                "location": "https://app.example/cb#%61ccess%5Ftoken=\(Fixtures.token(tenant: Fixtures.fabrikam))"
            ]
        )
        guard case .writeAudit(let line) = machine.upstreamResponded(redirect, at: Self.s2) else {
            Issue.record("the answer is audited before it goes anywhere")
            return
        }
        #expect(line.decision == .blocked && line.signInTenant == Fixtures.fabrikam, "\(line)")
        guard case .answer(let answer) = machine.auditWritten() else {
            Issue.record("the refusal is answered")
            return
        }
        #expect(answer.status == .forbidden)
    }

    @Test func tokenFlowsCanBeRefusedOutright() {
        var machine = Machines.make(tokenFlows: .refuse)
        _ = Machines.send(
            Fixtures.request(.GET, "/organizations/oauth2/v2.0/authorize"),
            body: nil,
            to: &machine,
            at: Self.s1
        )
        let redirect = Fixtures.answer(
            .found,
            "",
            headers: ["location": "https://app.example/#id_token=\(Fixtures.token(tenant: Fixtures.fabrikam))"]
        )
        let (line, answer) = Self.judgedFlow(redirect, path: "/organizations/oauth2/v2.0/authorize", handling: .refuse)
        #expect(line.setting == "tokenFlows" && line.decision == .blocked)
        #expect(machine.upstreamResponded(redirect, at: Self.s2) == .writeAudit(line))
        #expect(machine.auditWritten() == .answer(answer))
    }

    @Test func withoutACreatorATokenExchangeGets407() {
        let unknown = CreatorResolver.Resolution.unknown(CreatorUnknown(reason: "no source"))
        var machine = Machines.make(creator: unknown)
        let line = Self.tokenRecord.event(
            decision: .error,
            creator: nil,
            signIn: nil,
            reason: unknown.whyUnknown,
            at: Self.s1.date
        )
        #expect(Machines.send(Fixtures.request(Self.organizations), to: &machine, at: Self.s1) == .writeAudit(line))
        let answer = ProxyAnswer.error(
            .proxyAuthenticationRequired,
            "creator_tenant_unknown",
            "\(unknown.whyUnknown). \(CreatorResolver.Resolution.howToName)",
            correlationID: Self.s1.correlationID,
            at: Self.s1.date,
            extraHeaders: [.init(name: "proxy-authenticate", value: #"Bearer realm="tenantgate""#)]
        )
        #expect(machine.auditWritten() == .answer(Fixtures.own(answer, keepAlive: true)))
    }

    @Test(arguments: ["evil.example", "login.microsoftonline.com:8443"])
    func aHostHeaderNamingAnotherHostIsRefused(_ host: String) {
        var machine = Machines.make()
        let session = HostPort(host: Fixtures.host, port: 443)
        let reason = SessionHostHeader.problem([host], session: session) ?? "a Host naming another host is a problem"
        let (line, answer) = Self.refusedBeforeUpstream(reason)
        #expect(
            Machines.send(Fixtures.request(Self.organizations, host: host), to: &machine, at: Self.s1)
                == .writeAudit(line)
        )
        #expect(machine.auditWritten() == .answer(answer))
    }

    @Test func aRepeatedClientIDIsRefused() {
        var machine = Machines.make()
        let body = Fixtures.form("client_id=a&client_id=b&grant_type=client_credentials")
        let (line, answer) = Self.refusedBeforeUpstream(
            "the token request names client_id more than once, so which one the STS uses is ambiguous"
        )
        #expect(
            Machines.send(Fixtures.request(Self.organizations), body: body, to: &machine, at: Self.s1)
                == .writeAudit(line)
        )
        #expect(machine.auditWritten() == .answer(answer))
    }

    /// The line and the 400 of a token request refused at s1, before anything went upstream.
    static func refusedBeforeUpstream(_ reason: String) -> (AuditEvent, SessionAnswer) {
        let record = ExchangeRecord(
            host: Fixtures.host,
            path: organizations,
            clientID: nil,
            correlationID: s1.correlationID
        )
        let line = record.event(decision: .error, creator: Fixtures.contoso, signIn: nil, reason: reason, at: s1.date)
        let answer = ProxyAnswer.error(
            .badRequest,
            "invalid_request",
            reason,
            correlationID: s1.correlationID,
            at: s1.date
        )
        return (line, Fixtures.own(answer, keepAlive: false))
    }
}
