import Audit
import CertificateAuthority
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOSSL
import TestSupport
import Testing

@testable import ProxyServer

/// Interception without sockets: a CONNECT into the proxy's pipeline, then a real TLS client that trusts only the
/// interception CA, its bytes carried back to back (`BackToBackTLSClient`). The ClientHello is read
/// (`ClientHelloPeekHandler`), the session handed over (`SessionHandover`), a leaf minted for the name in the SNI,
/// and requests inside the session served by the exchange handler under `RequestDeadlineHandler`'s deadlines, all on
/// the testing loop's clock.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct InterceptionWithoutSocketsTests {
    static let connect =
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n"

    /// The proxy's pipeline for one client, after a CONNECT it answered with 200.
    static func acceptedConnect(_ fixture: ClientPipelineTests.Fixture) async throws -> NIOAsyncTestingChannel {
        let proxy = NIOAsyncTestingChannel(loop: fixture.loop)
        try await proxy.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50_001))
        let shared = fixture.shared
        try await fixture.loop.executeInContext {
            let sync = proxy.pipeline.syncOperations
            let deadline = RequestDeadlineHandler(head: .seconds(30))
            try sync.addHandler(deadline)
            try sync.addHandler(HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes))
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(
                ProxyRequestHandler(
                    shared: shared,
                    deadline: deadline,
                    clientAddress: ConnectStateMachineTests.loopback
                )
            )
        }
        try await proxy.writeInbound(ByteBuffer(string: connect))
        await fixture.loop.run()
        var established = ByteBuffer()
        while var part = try await proxy.readOutbound(as: ByteBuffer.self) { established.writeBuffer(&part) }
        #expect(String(buffer: established).hasPrefix("HTTP/1.1 200"))
        return proxy
    }

    static func client(_ fixture: ClientPipelineTests.Fixture, serverName: String?) async throws -> BackToBackTLSClient
    {
        try await BackToBackTLSClient(
            loop: fixture.loop,
            trustedRootPEM: fixture.authority.certificatePEM,
            serverName: serverName
        )
    }

    @Test func aConnectThenATLSSessionIsInterceptedAndAnswered() async throws {
        let fixture = try ClientPipelineTests.Fixture()
        let proxy = try await Self.acceptedConnect(fixture)
        let client = try await Self.client(fixture, serverName: "login.microsoftonline.com")
        try await client.shuttle(with: proxy, rounds: 400) { client.handshakeCompleted }
        #expect(client.handshakeCompleted, "the handshake completes with a leaf the CA signed for the SNI's name")

        // Inside the session: a Host header naming another host is refused by the exchange handler, upstream untouched.
        try await client.send(
            "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n"
        )
        try await client.shuttle(with: proxy, rounds: 200) { client.received.contains("\r\n\r\n") }
        #expect(client.received.hasPrefix("HTTP/1.1 400"), "\(client.received)")
        #expect(client.received.contains("does not name login.microsoftonline.com"), "\(client.received)")
        await client.close(with: proxy)
        #expect(!proxy.isActive)
        try await fixture.shutdown()
    }

    /// The CONNECT names an intercepted host, the ClientHello another: refused and audited, never tunnelled.
    @Test func aClientHelloNamingAnotherHostIsRefused() async throws {
        let fixture = try ClientPipelineTests.Fixture()
        let proxy = try await Self.acceptedConnect(fixture)
        let client = try await Self.client(fixture, serverName: "example.org")
        try await client.shuttle(with: proxy, rounds: 50) { !proxy.isActive }
        #expect(!proxy.isActive)
        #expect(!client.handshakeCompleted)
        let refusal = fixture.audit.lines.last ?? ""
        #expect(refusal.contains(#""setting":"tlsServerName""#), "\(fixture.audit.lines)")
        #expect(refusal.contains(#""decision":"blocked""#), "\(refusal)")
        await client.close(with: proxy)
        try await fixture.shutdown()
    }

    /// A client that never sends its ClientHello is closed at the handshake's deadline, not the idle time.
    @Test func aHelloThatNeverComesEndsAtTheHandshakeDeadline() async throws {
        let fixture = try ClientPipelineTests.Fixture()
        let proxy = try await Self.acceptedConnect(fixture)
        let handshake = fixture.shared.configuration.tlsHandshakeTimeoutSeconds
        await fixture.loop.advanceTime(by: .seconds(handshake - 1))
        #expect(proxy.isActive)
        await fixture.loop.advanceTime(by: .seconds(2))
        #expect(!proxy.isActive)
        try await fixture.shutdown()
    }

    /// Inside the session, a request head that never ends gets 408 at the head deadline, then the session closes.
    @Test func aRequestHeadThatNeverEndsGets408InsideTheSession() async throws {
        let fixture = try ClientPipelineTests.Fixture()
        let proxy = try await Self.acceptedConnect(fixture)
        let client = try await Self.client(fixture, serverName: "login.microsoftonline.com")
        try await client.shuttle(with: proxy, rounds: 400) { client.handshakeCompleted }
        #expect(client.handshakeCompleted)
        try await client.send("POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n")
        try await client.shuttle(with: proxy)
        #expect(client.received.isEmpty)
        await fixture.loop.advanceTime(by: .seconds(fixture.shared.configuration.requestHeadTimeoutSeconds + 1))
        try await client.shuttle(with: proxy, rounds: 20) { client.received.contains("\r\n\r\n") }
        #expect(client.received.hasPrefix("HTTP/1.1 408"), "\(client.received)")
        #expect(client.received.contains("request_timeout"), "\(client.received)")
        await client.close(with: proxy)
        #expect(!proxy.isActive)
        try await fixture.shutdown()
    }
}
