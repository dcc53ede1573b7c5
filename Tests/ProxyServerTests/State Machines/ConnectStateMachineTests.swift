import Audit
import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import Testing

@testable import ProxyServer

/// Every step of a client connection's first request, one event and its action at a time, without a channel.
struct ConnectStateMachineTests {
    static let loopback = IPAddress("127.0.0.1")!
    static let contoso = CreatorResolver.Resolution.known(Fixtures.contoso, source: .defaultTenant)

    static func machine(connectPorts: Set<Int> = [443]) -> ConnectStateMachine {
        ConnectStateMachine(
            configuration: .init(
                interception: InterceptionRules(
                    allowedConnectPorts: connectPorts,
                    extraInterceptedHosts: [],
                    tenantRestrictionsV2: nil
                ),
                maxBodyBytes: 1024,
                allowedPlainPorts: [80, 8080]
            )
        )
    }

    static func connect(_ target: String, authorization: String? = nil) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: target)
        if let authorization { head.headers.add(name: "proxy-authorization", value: authorization) }
        return head
    }

    @Test func anInterceptedConnectIsAcceptedOnceItsEndAndItsCreatorAreKnown() {
        var machine = Self.machine()
        #expect(
            machine.headReceived(
                Self.connect("LOGIN.microsoftonline.com.:443", authorization: "Bearer x"),
                clientAddress: Self.loopback
            ) == .resolveCreator(proxyAuthorization: "Bearer x", clientAddress: Self.loopback)
        )
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.parsingStopped() == .none)
        let accepted = AcceptedConnect(
            target: HostPort(host: "login.microsoftonline.com", port: 443),
            namesInterceptedHost: true,
            creator: Self.contoso,
            tunnelAddress: nil
        )
        #expect(machine.creatorResolved(Self.contoso) == .accept(accepted))
    }

    /// NIO removes the decoder on a later tick and only then forwards the bytes it held: a creator known at once
    /// must not hand the connection over before that, or the ClientHello's first bytes would come last.
    @Test func nothingIsAcceptedBeforeTheDecoderHasLeft() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.creatorResolved(Self.contoso) == .none)
        guard case .accept = machine.parsingStopped() else {
            Issue.record("accepted once parsing stopped")
            return
        }
    }

    @Test func aRefusedMakerTokenIsRefusedOnlyOnceParsingStopped() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.creatorResolved(.refused(reason: "the token's signature does not verify")) == .none)
        guard case .refuseMakerToken = machine.parsingStopped() else {
            Issue.record("a refused token is answered with 407 once parsing stopped")
            return
        }
        #expect(machine.parsingStopped() == .none)
    }

    @Test func theCreatorMayArriveBeforeTheConnectEnds() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(machine.creatorResolved(Self.contoso) == .none)
        #expect(machine.endReceived() == .stopParsing)
        guard case .accept = machine.parsingStopped() else {
            Issue.record("accepted once parsing stopped")
            return
        }
    }

    @Test func aTunnelIsAcceptedOnlyAfterItsDestinationIsJudged() throws {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("example.com:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.parsingStopped() == .resolveDestination(HostPort(host: "example.com", port: 443)))
        let address = try SocketAddress(ipAddress: "93.184.215.14", port: 443)
        guard case .accept(let accepted) = machine.destinationResolved(.success(address)) else {
            Issue.record("a judged destination is accepted")
            return
        }
        #expect(accepted.tunnelAddress == address)
        #expect(accepted.namesInterceptedHost == false)
    }

    @Test func aRefusedDestinationIsAnAuditedHTTPRefusal() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("metadata.internal:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        let refused = UpstreamError(code: .destinationRefused, detail: "169.254.169.254 is link-local")
        guard case .refuseForbidden(let refusal) = machine.destinationResolved(.failure(refused)) else {
            Issue.record("a refused destination is a 403")
            return
        }
        #expect(refusal.setting == .destinationPolicy)
        #expect(refusal.creator == Fixtures.contoso)
    }

    @Test func aNameThatDoesNotResolveOnPort443IsLeftToTheClientHello() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("alias.invalid:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        guard
            case .accept(let accepted) = machine.destinationResolved(
                .failure(UpstreamError(code: .connectFailed, detail: "no such name"))
            )
        else {
            Issue.record("the SNI may still name an intercepted host")
            return
        }
        #expect(accepted.tunnelAddress == nil)
    }

    @Test func aMakerTokenThatDoesNotVerifyGets407() {
        var machine = Self.machine()
        _ = machine.headReceived(
            Self.connect("login.microsoftonline.com:443", authorization: "Bearer forged"),
            clientAddress: Self.loopback
        )
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        guard case .refuseMakerToken(let refusal) = machine.creatorResolved(.refused(reason: "bad signature")) else {
            Issue.record("a forged maker token is refused, never replaced by another source")
            return
        }
        #expect(refusal.setting == .creatorToken)
        #expect(refusal.decision == .error)
        #expect(machine.parsingStopped() == .none)
    }

    @Test(arguments: ["login.microsoftonline.com:8443", "login.microsoftonline.com", "[::1:443", "host:0"])
    func connectTargetsThatCannotBeServedAreRefused(_ target: String) {
        var machine = Self.machine()
        guard case .refuse(let status, _) = machine.headReceived(Self.connect(target), clientAddress: Self.loopback)
        else {
            Issue.record("\(target) is refused")
            return
        }
        #expect(status == .forbidden || status == .badRequest)
    }

    @Test func plainHTTPIsForwardedAndAnswered() {
        var machine = Self.machine()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://Example.COM:8080/a?b=1")
        head.headers.add(name: "proxy-authorization", value: "Basic secret")
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        guard case .forwardPlain(let upstream, nil, "example.com", 8080) = machine.endReceived() else {
            Issue.record("forwarded to the URL's host and port")
            return
        }
        #expect(upstream.uri == "/a?b=1")
        #expect(upstream.headers.first(name: "host") == "example.com:8080")
        #expect(upstream.headers.contains(name: "proxy-authorization") == false)
        let response = Fixtures.answer(.ok, "hello")
        #expect(machine.plainResponded(response) == .answerPlain(response, keepAlive: true))
        #expect(
            machine.headReceived(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com/"),
                clientAddress: Self.loopback
            ) == .none
        )
    }

    /// Found by the wire fuzzer: a port past 65535 reached NIO's `SocketAddress`, which traps.
    @Test(arguments: ["http://127.0.0.1:65536/", "http://127.0.0.1:4294967376/", "http://example.com:0/"])
    func plainURLsWithoutATCPPortAreRefused(_ uri: String) {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: uri),
            clientAddress: Self.loopback
        )
        guard case .refuse(.badRequest, _) = machine.endReceived() else {
            Issue.record("\(uri) is refused with 400")
            return
        }
    }

    /// Plain http reaches only the configured ports (80 by default), as Squid's `Safe_ports`.
    @Test func plainHTTPToAPortNotAllowedIsRefused() {
        var machine = Self.machine()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com:25/")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        guard case .refuseForbidden(let refusal) = machine.endReceived() else {
            Issue.record("port 25 is refused")
            return
        }
        #expect(refusal.setting == .destinationPolicy)
        #expect(refusal.reason.contains("--allow-http-port 25"))
    }

    @Test func aRequestPipelinedBehindAPlainOneClosesAfterTheAnswer() {
        var machine = Self.machine()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com/")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        _ = machine.endReceived()
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        let response = Fixtures.answer(.ok, "hello")
        #expect(machine.plainResponded(response) == .answerPlain(response, keepAlive: false))
    }

    @Test func plainHTTPToAnSTSIsRefused() {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(
                version: .http1_1,
                method: .POST,
                uri: "http://login.microsoftonline.com/common/oauth2/token"
            ),
            clientAddress: Self.loopback
        )
        guard case .refuseForbidden(let refusal) = machine.endReceived() else {
            Issue.record("token requests in clear are refused")
            return
        }
        #expect(refusal.setting == .plainHTTP)
    }

    @Test func anOriginFormRequestIsNotForAProxy() {
        var machine = Self.machine()
        guard
            case .refuse(.badRequest, _) = machine.headReceived(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"),
                clientAddress: Self.loopback
            )
        else {
            Issue.record("origin-form is refused")
            return
        }
    }

    @Test func theIdleTimeoutClosesOnlyWhenNoAnswerIsOwed() {
        var idle = Self.machine()
        #expect(idle.idleTimeoutFired() == .close)
        var verifying = Self.machine()
        _ = verifying.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        _ = verifying.endReceived()
        #expect(verifying.idleTimeoutFired() == .none)
        var resolving = Self.machine()
        _ = resolving.headReceived(Self.connect("example.com:443"), clientAddress: Self.loopback)
        _ = resolving.creatorResolved(Self.contoso)
        _ = resolving.endReceived()
        _ = resolving.parsingStopped()
        #expect(resolving.idleTimeoutFired() == .none)
    }

    @Test func aMalformedRequestIsAnsweredOnlyWhileHTTPIsSpoken() {
        var speaking = Self.machine()
        #expect(
            speaking.malformedRequest(status: .requestHeaderFieldsTooLarge, "too big")
                == .refuse(.requestHeaderFieldsTooLarge, "too big")
        )
        var tunnelling = Self.machine()
        _ = tunnelling.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        _ = tunnelling.endReceived()
        #expect(tunnelling.malformedRequest(status: .badRequest, "garbage") == .close)
    }

    @Test func eventsAfterTheChannelClosedChangeNothing() throws {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("example.com:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        machine.channelClosed()
        #expect(
            machine.destinationResolved(.success(try SocketAddress(ipAddress: "93.184.215.14", port: 443))) == .none
        )
        #expect(machine.idleTimeoutFired() == .none)
        #expect(machine.plainResponded(Fixtures.answer(.ok, "")) == .none)
    }
}
