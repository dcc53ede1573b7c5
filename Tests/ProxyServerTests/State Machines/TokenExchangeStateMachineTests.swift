import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import Testing

@testable import ProxyServer

/// Every step of an intercepted session, one event and its action at a time, without a channel (STYLE 5).
struct TokenExchangeStateMachineTests {
    static func machine(
        creator: CreatorResolver.Resolution = .known(Fixtures.contoso, source: .defaultTenant),
        mode: EnforcementMode = .enforce,
        tokenFlows: TokenFlowHandling = .judge
    ) -> TokenExchangeStateMachine {
        TokenExchangeStateMachine(
            session: .init(
                target: HostPort(host: Fixtures.host, port: 443),
                creator: creator,
                mode: mode,
                tokenFlows: tokenFlows,
                maxBodyBytes: 1024,
                tenantRestrictionsV2: nil
            ),
            currentDecider: { Fixtures.decider }
        )
    }

    /// Feeds a whole request; returns the action of its last part.
    static func send(
        _ head: HTTPRequestHead,
        body: ByteBuffer? = Fixtures.form(),
        to machine: inout TokenExchangeStateMachine
    ) -> TokenExchangeStateMachine.Action {
        #expect(machine.requestPartReceived(.head(head)) == .none)
        if let body { #expect(machine.requestPartReceived(.body(body)) == .none) }
        return machine.requestPartReceived(.end(nil))
    }

    static let organizations = "/organizations/oauth2/v2.0/token"

    @Test func anAllowedExchangeGoesUpstreamIsAuditedThenAnswered() {
        var machine = Self.machine()
        let forwarded = Self.send(Fixtures.request(Self.organizations), to: &machine).forwardedHead
        #expect(forwarded?.headers.first(name: "accept-encoding") == "identity")
        #expect(forwarded?.headers.first(name: "host") == Fixtures.host)
        let audit = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam)).auditEvent
        #expect(audit?.decision == .allowed)
        #expect(audit?.signInTenant == Fixtures.fabrikam)
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .ok)
        #expect(answer?.closesConnection == false)
        #expect(answer?.exchangeStarted != nil)
        #expect(machine.answerSent() == .none)
    }

    @Test func aPathTenantThatIsRefusedNeverGoesUpstream() {
        var machine = Self.machine()
        let audit = Self.send(Fixtures.request("/\(Fixtures.northwind)/oauth2/v2.0/token"), to: &machine).auditEvent
        #expect(audit?.decision == .blocked)
        #expect(audit?.errorCode == 500212)
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .forbidden)
        #expect(answer?.bodyText.contains("AADSTS500212") == true)
    }

    @Test func aTokenOfARefusedTenantIsWithheld() {
        var machine = Self.machine()
        #expect(Self.send(Fixtures.request(Self.organizations), to: &machine).forwardedHead != nil)
        let audit = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.northwind)).auditEvent
        #expect(audit?.decision == .blocked)
        #expect(audit?.directions == [.outbound])
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .forbidden)
        #expect(answer?.bodyText.contains("access_token") == false)
    }

    @Test func reportOnlyLetsARefusedPathGoAndRecordsWouldBlock() {
        var machine = Self.machine(mode: .reportOnly)
        #expect(
            Self.send(Fixtures.request("/\(Fixtures.northwind)/oauth2/v2.0/token"), to: &machine).forwardedHead != nil
        )
        let refusal = Fixtures.answer(.badRequest, #"{"error":"invalid_client"}"#)
        #expect(machine.upstreamResponded(refusal).auditEvent?.decision == .wouldBlock)
        #expect(machine.auditWritten().answer?.status == .badRequest)
    }

    @Test func anAnswerInAnUnreadableEncodingIsRefused() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(Self.organizations), to: &machine)
        let encoded = Fixtures.tokenAnswer(tenant: Fixtures.fabrikam, headers: ["content-encoding": "br"])
        let audit = machine.upstreamResponded(encoded).auditEvent
        #expect(audit?.decision == .blocked)
        #expect(machine.auditWritten().answer?.status == .forbidden)
    }

    @Test func anUnwrittenAuditLineRefusesTheExchangeAndEndsTheSession() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(Self.organizations), to: &machine)
        let event = machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam)).auditEvent
        let answer = machine.auditFailed(correlationID: event!.correlationID).answer
        #expect(answer?.status == .serviceUnavailable)
        #expect(answer?.closesConnection == true)
        #expect(answer?.bodyText.contains("access_token") == false)
        #expect(machine.answerSent() == .none)
    }

    @Test func anUpstreamFailureOfATokenExchangeIsAuditedAndClosesTheSession() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(Self.organizations), to: &machine)
        #expect(machine.upstreamFailed(.timedOut).auditEvent?.decision == .error)
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .gatewayTimeout)
        #expect(answer?.closesConnection == true)
    }

    @Test func otherRequestsPassThroughUnaudited() {
        var machine = Self.machine()
        let discovery = Fixtures.request(.GET, "/common/v2.0/.well-known/openid-configuration")
        #expect(Self.send(discovery, body: nil, to: &machine).forwardedHead?.uri == discovery.uri)
        let answer = machine.upstreamResponded(Fixtures.answer(.ok, "{}", headers: ["connection": "keep-alive"])).answer
        #expect(answer?.status == .ok)
        #expect(answer?.headers.contains(name: "connection") == false)
        #expect(machine.answerSent() == .none)
    }

    @Test func tokensHandedOverOutsideTheTokenEndpointAreJudged() {
        var machine = Self.machine()
        _ = Self.send(
            Fixtures.request(.GET, "/organizations/oauth2/v2.0/authorize?response_mode=form_post"),
            body: nil,
            to: &machine
        )
        let page = Fixtures.answer(
            .ok,
            #"<form method="post"><input type="hidden" name="id_token" value="\#(Fixtures.token(tenant: Fixtures.northwind))"/></form>"#,
            headers: ["content-type": "text/html"]
        )
        #expect(machine.upstreamResponded(page).auditEvent?.decision == .blocked)
        #expect(machine.auditWritten().answer?.status == .forbidden)
    }

    @Test func tokenFlowsCanBeRefusedOutright() {
        var machine = Self.machine(tokenFlows: .refuse)
        _ = Self.send(Fixtures.request(.GET, "/organizations/oauth2/v2.0/authorize"), body: nil, to: &machine)
        let redirect = Fixtures.answer(
            .found,
            "",
            headers: ["location": "https://app.example/#id_token=\(Fixtures.token(tenant: Fixtures.fabrikam))"]
        )
        #expect(machine.upstreamResponded(redirect).auditEvent?.setting == "tokenFlows")
    }

    @Test func withoutACreatorATokenExchangeGets407() {
        var machine = Self.machine(creator: .unknown(CreatorUnknown(reason: "no source")))
        #expect(Self.send(Fixtures.request(Self.organizations), to: &machine).auditEvent?.decision == .error)
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .proxyAuthenticationRequired)
        #expect(answer?.headers.first(name: "proxy-authenticate") == #"Bearer realm="tenantgate""#)
        #expect(answer?.closesConnection == false)
    }

    @Test(arguments: ["evil.example", "login.microsoftonline.com:8443"])
    func aHostHeaderNamingAnotherHostIsRefused(_ host: String) {
        var machine = Self.machine()
        #expect(
            Self.send(Fixtures.request(Self.organizations, host: host), to: &machine).auditEvent?.decision == .error
        )
        let answer = machine.auditWritten().answer
        #expect(answer?.status == .badRequest)
        #expect(answer?.closesConnection == true)
    }

    @Test func aRepeatedClientIDIsRefused() {
        var machine = Self.machine()
        let body = Fixtures.form("client_id=a&client_id=b&grant_type=client_credentials")
        #expect(
            Self.send(Fixtures.request(Self.organizations), body: body, to: &machine).auditEvent?.decision == .error
        )
        #expect(machine.auditWritten().answer?.status == .badRequest)
    }

    @Test func pipelinedRequestsWaitStopReadingAndAreServedInOrder() {
        var machine = Self.machine()
        let discovery = Fixtures.request(.GET, "/common/discovery/keys")
        #expect(Self.send(discovery, body: nil, to: &machine).forwardedHead != nil)
        #expect(Self.send(Fixtures.request(.GET, "/second"), body: nil, to: &machine) == .stopReading)
        #expect(Self.send(Fixtures.request(.GET, "/third"), body: nil, to: &machine) == .none)
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "1")).answer != nil)
        #expect(machine.answerSent().forwardedHead?.uri == "/second")
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "2")).answer != nil)
        guard case .resumeReading(let then) = machine.answerSent() else {
            Issue.record("reading resumes once the last waiting request is served")
            return
        }
        #expect(then.forwardedHead?.uri == "/third")
    }

    @Test func morePipelinedRequestsThanTheQueueHoldsEndTheSession() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(.GET, "/first"), body: nil, to: &machine)
        for index in 0..<TokenExchangeStateMachine.maxWaiting {
            #expect(
                Self.send(Fixtures.request(.GET, "/\(index)"), body: nil, to: &machine)
                    == (index == 0 ? .stopReading : .none)
            )
        }
        #expect(Self.send(Fixtures.request(.GET, "/overflow"), body: nil, to: &machine) == .close)
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "late")) == .none)
    }

    @Test func aHalfClosedClientGetsItsAnswerThenTheConnectionCloses() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(.GET, "/common/discovery/keys"), body: nil, to: &machine)
        #expect(machine.inputClosed() == .none)
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "{}")).answer?.closesConnection == true)
        #expect(machine.answerSent() == .none)
    }

    @Test func aHalfCloseBetweenRequestsCloses() {
        var machine = Self.machine()
        #expect(machine.inputClosed() == .close)
        #expect(Self.send(Fixtures.request(.GET, "/late"), body: nil, to: &machine) == .none)
    }

    @Test func theIdleTimeoutClosesOnlyWhenNoAnswerIsOwed() {
        var idle = Self.machine()
        #expect(idle.idleTimeoutFired() == .close)
        var busy = Self.machine()
        _ = Self.send(Fixtures.request(.GET, "/slow"), body: nil, to: &busy)
        #expect(busy.idleTimeoutFired() == .none)
        #expect(busy.upstreamResponded(Fixtures.answer(.ok, "{}")).answer?.status == .ok)
    }

    @Test func aConnectionRequestNotKeptAliveClosesAfterItsAnswer() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(.GET, "/once", keepAlive: false), body: nil, to: &machine)
        let answer = machine.upstreamResponded(Fixtures.answer(.ok, "{}")).answer
        #expect(answer?.keepAlive == false)
        #expect(answer?.closesConnection == true)
    }

    @Test func aMalformedRequestIsAnsweredWhenIdleAndEndsTheSessionOtherwise() {
        var idle = Self.machine()
        let answer = idle.malformedRequest(status: .badRequest, "not HTTP").answer
        #expect(answer?.status == .badRequest)
        #expect(answer?.closesConnection == true)
        var busy = Self.machine()
        _ = Self.send(Fixtures.request(.GET, "/slow"), body: nil, to: &busy)
        #expect(busy.malformedRequest(status: .badRequest, "not HTTP") == .close)
    }

    @Test func aBodyOverTheInspectionLimitGets413() {
        var machine = Self.machine()
        #expect(machine.requestPartReceived(.head(Fixtures.request(Self.organizations))) == .none)
        let answer = machine.requestPartReceived(.body(ByteBuffer(repeating: 0x61, count: 2048))).answer
        #expect(answer?.status == .payloadTooLarge)
        #expect(machine.requestPartReceived(.end(nil)) == .none)
    }

    @Test func eventsAfterTheChannelClosedChangeNothing() {
        var machine = Self.machine()
        _ = Self.send(Fixtures.request(Self.organizations), to: &machine)
        machine.channelClosed()
        #expect(machine.upstreamResponded(Fixtures.tokenAnswer(tenant: Fixtures.fabrikam)) == .none)
        #expect(machine.upstreamFailed(.timedOut) == .none)
        #expect(machine.auditWritten() == .none)
        #expect(machine.answerSent() == .none)
        #expect(machine.idleTimeoutFired() == .none)
        #expect(machine.inputClosed() == .none)
        #expect(machine.requestPartReceived(.head(Fixtures.request(.GET, "/"))) == .none)
    }

    @Test func anAuditLineThatLandsAfterTheCloseAnswersNothing() {
        var machine = Self.machine()
        let audit = Self.send(Fixtures.request("/\(Fixtures.northwind)/oauth2/v2.0/token"), to: &machine)
        #expect(audit.auditEvent != nil)
        machine.channelClosed()
        #expect(machine.auditWritten() == .none)
    }
}
