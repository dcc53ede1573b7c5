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
    static let login = "login.microsoftonline.com"
    static let intercepted = AcceptedConnect(
        target: HostPort(host: login, port: 443),
        namesInterceptedHost: true,
        creator: contoso,
        tunnelRoute: nil
    )

    static func makerTokenRefused(_ reason: String) -> ConnectStateMachine.Action {
        .refuseMakerToken(
            ConnectionRefusal(host: login, creator: nil, setting: .creatorToken, reason: reason, decision: .error)
        )
    }

    static func machine(
        connectPorts: Set<Int> = [443],
        maxBodyBytes: Int = 1024,
        resourceHosts: Set<HostPattern> = []
    ) -> ConnectStateMachine {
        ConnectStateMachine(
            configuration: .init(
                interception: InterceptionRules(
                    allowedConnectPorts: connectPorts,
                    extraInterceptedHosts: [],
                    tenantRestrictionsV2: nil,
                    resourceHosts: resourceHosts
                ),
                maxBodyBytes: maxBodyBytes,
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
            tunnelRoute: nil
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
        #expect(machine.parsingStopped() == .accept(Self.intercepted))
    }

    @Test func aRefusedMakerTokenIsRefusedOnlyOnceParsingStopped() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.creatorResolved(.refused(reason: "the token's signature does not verify")) == .none)
        #expect(machine.parsingStopped() == Self.makerTokenRefused("the token's signature does not verify"))
        #expect(machine.parsingStopped() == .none)
    }

    @Test func theCreatorMayArriveBeforeTheConnectEnds() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(machine.creatorResolved(Self.contoso) == .none)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.parsingStopped() == .accept(Self.intercepted))
    }

    @Test func aTunnelIsAcceptedOnlyAfterItsDestinationIsJudged() throws {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("example.com:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        #expect(machine.endReceived() == .stopParsing)
        #expect(machine.parsingStopped() == .resolveDestination(HostPort(host: "example.com", port: 443)))
        let route = UpstreamRoute(
            target: HostPort(host: "example.com", port: 443),
            address: try SocketAddress(ipAddress: "93.184.215.14", port: 443),
            parent: nil
        )
        let tunnel = AcceptedConnect(
            target: HostPort(host: "example.com", port: 443),
            namesInterceptedHost: false,
            creator: Self.contoso,
            tunnelRoute: route
        )
        #expect(machine.destinationResolved(.success(route)) == .accept(tunnel))
    }

    @Test func aRefusedDestinationIsAnAuditedHTTPRefusal() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("metadata.internal:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        let refused = UpstreamError(code: .destinationRefused, detail: "169.254.169.254 is link-local")
        let refusal = ConnectionRefusal(
            host: "metadata.internal",
            creator: Fixtures.contoso,
            setting: .destinationPolicy,
            reason: "169.254.169.254 is link-local"
        )
        #expect(machine.destinationResolved(.failure(refused)) == .refuseForbidden(refusal))
    }

    @Test func aNameThatDoesNotResolveOnPort443IsLeftToTheClientHello() {
        var machine = Self.machine()
        _ = machine.headReceived(Self.connect("alias.invalid:443"), clientAddress: Self.loopback)
        _ = machine.creatorResolved(Self.contoso)
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        let leftToTheHello = AcceptedConnect(
            target: HostPort(host: "alias.invalid", port: 443),
            namesInterceptedHost: false,
            creator: Self.contoso,
            tunnelRoute: nil
        )
        #expect(
            machine.destinationResolved(.failure(UpstreamError(code: .connectFailed, detail: "no such name")))
                == .accept(leftToTheHello)
        )
    }

    @Test func aMakerTokenThatDoesNotVerifyGets407() {
        var machine = Self.machine()
        _ = machine.headReceived(
            Self.connect("login.microsoftonline.com:443", authorization: "Bearer forged"),
            clientAddress: Self.loopback
        )
        _ = machine.endReceived()
        _ = machine.parsingStopped()
        // Refused, never replaced by another source of the creator.
        #expect(machine.creatorResolved(.refused(reason: "bad signature")) == Self.makerTokenRefused("bad signature"))
        #expect(machine.parsingStopped() == .none)
    }

    @Test(arguments: [
        (
            "login.microsoftonline.com:8443", HTTPResponseStatus.forbidden,
            "CONNECT to port 8443 is not allowed (allowed: 443)"
        ),
        ("login.microsoftonline.com", .badRequest, "CONNECT needs host:port, got 'login.microsoftonline.com'"),
        ("[::1:443", .badRequest, "CONNECT needs host:port, got '[::1:443'"),
        ("host:0", .badRequest, "CONNECT needs host:port, got 'host:0'"),
    ])
    func connectTargetsThatCannotBeServedAreRefused(_ target: String, status: HTTPResponseStatus, reason: String) {
        var machine = Self.machine()
        #expect(machine.headReceived(Self.connect(target), clientAddress: Self.loopback) == .refuse(status, reason))
    }

    /// A plain request's body sent a byte a chunk (chunked encoding gives one part per chunk) grows in place. When
    /// the state kept a second reference, every part copied the whole body so far: two million parts were two
    /// terabytes of copying, minutes on the loop that serves every other connection. Bounded at a minute, so that
    /// comes back as a failure rather than a hang.
    @Test(.timeLimit(.minutes(1))) func aBodyOfOneByteChunksIsGatheredInPlace() throws {
        let size = 2 << 20
        var machine = Self.machine(maxBodyBytes: size)
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://example.com/upload")
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        var chunk = ByteBuffer(string: "A")
        for _ in 0..<size {
            guard machine.bodyReceived(chunk) == .none else {
                Issue.record("a part within the limit is taken")
                return
            }
        }
        chunk.clear()
        guard case .forwardPlain(_, let body?, _, _) = machine.endReceived() else {
            Issue.record("the request goes on with its body")
            return
        }
        #expect(body.readableBytes == size && body.readableBytesView.allSatisfy { $0 == UInt8(ascii: "A") })
    }

    /// An IPv6 literal's colons, and an authority with no port, are no port.
    @Test(arguments: ["http://[::1]/", "http://example.com/", "http://example.com:/", "http://[::1]:80/a:b"])
    func plainURLsWithoutAnExplicitPortGoToPort80(_ uri: String) {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: uri),
            clientAddress: Self.loopback
        )
        guard case .forwardPlain(_, _, _, let port) = machine.endReceived() else {
            Issue.record("\(uri) must be forwarded")
            return
        }
        #expect(port == 80)
    }

    /// The Host sent on brackets an IPv6 literal (review 60 F2: `Host: ::1:8080` is refused by strict servers).
    @Test(arguments: [
        ("http://[::1]:8080/", "[::1]:8080"), ("http://[::1]/", "[::1]"), ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("http://Example.com/", "example.com"),
    ])
    func theHostSentOnIsTheURLsAuthority(_ uri: String, host: String) {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: uri, headers: ["host": "elsewhere.example"]),
            clientAddress: Self.loopback
        )
        guard case .forwardPlain(let head, _, _, _) = machine.endReceived() else {
            Issue.record("\(uri) must be forwarded")
            return
        }
        #expect(head.headers["host"] == [host])
    }

    /// A malformed request pipelined behind a plain one waits for that one's answer, which then ends the connection.
    @Test func aMalformedRequestBehindAPlainOneLetsItBeAnswered() {
        var machine = Self.machine()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com/")
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        guard case .forwardPlain = machine.endReceived() else {
            Issue.record("must be forwarded")
            return
        }
        #expect(machine.malformedRequest(status: .badRequest, "bad") == .none)
        let response = Fixtures.answer(.ok, "hello")
        #expect(machine.plainResponded(response) == .answerPlain(response, keepAlive: false))
    }

    /// A maker token is verified, then left out of what goes upstream.
    @Test func plainHTTPIsForwardedAndAnswered() {
        var machine = Self.machine()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://Example.COM:8080/a?b=1")
        head.headers.add(name: "proxy-authorization", value: "Bearer maker")
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        let upstream = HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/a?b=1",
            headers: ["host": "example.com:8080"]
        )
        #expect(
            machine.endReceived() == .resolveCreator(proxyAuthorization: "Bearer maker", clientAddress: Self.loopback)
        )
        #expect(
            machine.creatorResolved(Self.contoso) == .forwardPlain(upstream, body: nil, host: "example.com", port: 8080)
        )
        let response = Fixtures.answer(.ok, "hello")
        #expect(machine.plainResponded(response) == .answerPlain(response, keepAlive: true))
        #expect(
            machine.headReceived(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com/"),
                clientAddress: Self.loopback
            ) == .none
        )
    }

    /// SPEC 4.1: a maker token sent on a plain request and not verified is answered 407 and audited, as on a CONNECT
    /// (review 53 F3: it went on unread). A request pipelined behind it waits, and is not read as part of it.
    @Test func aPlainRequestsMakerTokenThatDoesNotVerifyGets407() {
        var machine = Self.machine()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://example.com/x")
        head.headers.add(name: "proxy-authorization", value: "Bearer forged")
        head.headers.add(name: "content-length", value: "2")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        _ = machine.bodyReceived(ByteBuffer(string: "ab"))
        #expect(
            machine.endReceived() == .resolveCreator(proxyAuthorization: "Bearer forged", clientAddress: Self.loopback)
        )
        #expect(machine.headReceived(head, clientAddress: Self.loopback) == .none)
        #expect(machine.bodyReceived(ByteBuffer(string: "cd")) == .none)
        #expect(machine.endReceived() == .none)
        #expect(machine.idleTimeoutFired() == .none, "an answer is owed")
        #expect(
            machine.creatorResolved(.refused(reason: "bad signature"))
                == .refuseMakerToken(
                    ConnectionRefusal(
                        host: "example.com",
                        creator: nil,
                        setting: .creatorToken,
                        reason: "bad signature",
                        decision: .error
                    )
                )
        )
    }

    /// The refusal's audit line names the URL's host, never more of the URL: review 55 found a URL Foundation
    /// cannot read (a port typo) written whole, its password, code and token with it.
    @Test(arguments: [
        ("http://alice:S3cret@127.0.0.1:abc/cb?code=AUTH&access_token=eyJx", "127.0.0.1:abc"),
        ("http:///cb?code=AUTH", ""),
        ("http://[::1/cb?code=AUTH", "[::1"),
        ("http://a:b@Example.COM/x?code=AUTH", "example.com"),
    ])
    func aRefusedPlainRequestsLineNamesOnlyItsHost(uri: String, host: String) {
        var machine = Self.machine()
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: uri)
        head.headers.add(name: "proxy-authorization", value: "Bearer forged")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        _ = machine.endReceived()
        guard case .refuseMakerToken(let refusal) = machine.creatorResolved(.refused(reason: "bad signature")) else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.host == host)
    }

    /// Verified while a second request is pipelined behind it: sent with its own body only, and the connection ends
    /// after its answer.
    @Test func aPlainRequestVerifiedWithAnotherBehindItClosesAfterTheAnswer() {
        var machine = Self.machine()
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "http://example.com/x")
        head.headers.add(name: "proxy-authorization", value: "Bearer maker")
        head.headers.add(name: "content-length", value: "2")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        _ = machine.bodyReceived(ByteBuffer(string: "ab"))
        _ = machine.endReceived()
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        _ = machine.bodyReceived(ByteBuffer(string: "cd"))
        guard case .forwardPlain(_, let body, _, _) = machine.creatorResolved(Self.contoso) else {
            Issue.record("not forwarded")
            return
        }
        #expect(body == ByteBuffer(string: "ab"))
        let response = Fixtures.answer(.ok, "hello")
        #expect(machine.plainResponded(response) == .answerPlain(response, keepAlive: false))
    }

    /// Found by the wire fuzzer: a port past 65535 reached NIO's `SocketAddress`, which traps. A port past `Int`
    /// (review 35) Foundation reads as none: it went to port 80.
    @Test(arguments: [
        "http://127.0.0.1:65536/", "http://127.0.0.1:4294967376/", "http://example.com:0/",
        "http://example.com:99999999999999999999/", "http://[::1]:99999999999999999999999/x",
    ])
    func plainURLsWithoutATCPPortAreRefused(_ uri: String) {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: uri),
            clientAddress: Self.loopback
        )
        #expect(machine.endReceived() == .refuse(.badRequest, "the URL's port is not a TCP port"))
    }

    /// TRACE is not forwarded: an echo of it (a parent proxy's, at `Max-Forwards: 0`) would show the parent's
    /// credentials the proxy adds.
    @Test(arguments: [HTTPMethod.TRACE, .RAW(value: "TRACK")])
    func traceIsNotForwarded(_ method: HTTPMethod) {
        var machine = Self.machine()
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: method, uri: "http://example.com/"),
            clientAddress: Self.loopback
        )
        guard case .refuse(.badRequest, let reason) = machine.endReceived() else {
            Issue.record("\(method) is refused")
            return
        }
        #expect(reason.contains("is not forwarded"))
    }

    /// Plain http reaches only the configured ports (80 by default), as Squid's `Safe_ports`.
    @Test func plainHTTPToAPortNotAllowedIsRefused() {
        var machine = Self.machine()
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com:25/")
        _ = machine.headReceived(head, clientAddress: Self.loopback)
        let refusal = ConnectionRefusal(
            host: "example.com",
            creator: nil,
            setting: .destinationPolicy,
            reason: "plain http may reach ports 80, 8080, not 25; --allow-http-port 25 opens it"
        )
        #expect(machine.endReceived() == .refuseForbidden(refusal))
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
        // Token requests in clear are refused.
        let refusal = ConnectionRefusal(
            host: Self.login,
            creator: nil,
            setting: .plainHTTP,
            reason: "login.microsoftonline.com is a security token service: plain http to it is refused; use https "
                + "(CONNECT)"
        )
        #expect(machine.endReceived() == .refuseForbidden(refusal))
    }

    /// Review 30: the refusal named a resource host a security token service.
    @Test func plainHTTPToAResourceHostIsRefusedAsOne() {
        var machine = Self.machine(resourceHosts: [.exact("graph.microsoft.com")])
        _ = machine.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://graph.microsoft.com/v1.0/me"),
            clientAddress: Self.loopback
        )
        let refusal = ConnectionRefusal(
            host: "graph.microsoft.com",
            creator: nil,
            setting: .plainHTTP,
            reason: "graph.microsoft.com is a resource host, whose every request is judged: plain http to it is "
                + "refused; use https (CONNECT)"
        )
        #expect(machine.endReceived() == .refuseForbidden(refusal))
    }

    @Test func anOriginFormRequestIsNotForAProxy() {
        var machine = Self.machine()
        #expect(
            machine.headReceived(
                HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"),
                clientAddress: Self.loopback
            )
                == .refuse(.badRequest, "this is a proxy: send CONNECT host:443 or an absolute http:// URL")
        )
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

    /// A client's FIN before its request is whole closes the connection at once, not at the idle timeout; a plain
    /// request already upstream is answered first, then the connection ends.
    @Test func theClientsFINClosesUnlessAnAnswerIsOnItsWay() {
        var silent = Self.machine()
        #expect(silent.inputClosed() == .close)
        var halfConnect = Self.machine()
        _ = halfConnect.headReceived(Self.connect("login.microsoftonline.com:443"), clientAddress: Self.loopback)
        #expect(halfConnect.inputClosed() == .close)
        var upstream = Self.machine()
        _ = upstream.headReceived(
            HTTPRequestHead(version: .http1_1, method: .GET, uri: "http://example.com:8080/"),
            clientAddress: Self.loopback
        )
        _ = upstream.endReceived()
        #expect(upstream.inputClosed() == .none)
        let response = Fixtures.answer(.ok, "hello")
        #expect(upstream.plainResponded(response) == .answerPlain(response, keepAlive: false))
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
            machine.destinationResolved(
                .success(
                    UpstreamRoute(
                        target: HostPort(host: "example.com", port: 443),
                        address: try SocketAddress(ipAddress: "93.184.215.14", port: 443),
                        parent: nil
                    )
                )
            ) == .none
        )
        #expect(machine.idleTimeoutFired() == .none)
        #expect(machine.plainResponded(Fixtures.answer(.ok, "")) == .none)
    }
}
