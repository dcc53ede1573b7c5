import CertificateAuthority
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOSSL
import NIOTLS
import Testing

@testable import ProxyServer

/// A whole interception without sockets: a CONNECT into the proxy's pipeline, then a real TLS handshake with a
/// client that trusts only the interception CA, its bytes carried back to back between two testing channels. The
/// ClientHello is read (`ClientHelloPeekHandler`), the session handed over (`SessionHandover`), a leaf minted for the
/// name in the SNI, and a request inside the session answered by the exchange handler.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct InterceptionWithoutSocketsTests {
    /// Remembers the client side's handshake outcome.
    final class HandshakeWatcher: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        private(set) var completed = false
        private(set) var received = ByteBuffer()

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted { completed = true }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.writeBuffer(&bytes)
        }
    }

    @Test func aConnectThenATLSSessionIsInterceptedAndAnswered() async throws {
        let fixture = try ClientPipelineTests.Fixture()
        let shared = fixture.shared
        let proxy = NIOAsyncTestingChannel(loop: fixture.loop)
        try await proxy.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50_001))
        try await fixture.loop.executeInContext {
            let sync = proxy.pipeline.syncOperations
            let deadline = RequestDeadlineHandler(head: .seconds(30))
            try sync.addHandler(deadline)
            try sync.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(ProxyRequestHandler(shared: shared, deadline: deadline))
        }
        try await proxy.writeInbound(
            ByteBuffer(
                string: "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n"
            )
        )
        await fixture.loop.run()
        var established = ByteBuffer()
        while var part = try await proxy.readOutbound(as: ByteBuffer.self) { established.writeBuffer(&part) }
        #expect(String(buffer: established).hasPrefix("HTTP/1.1 200"))

        // The client trusts the interception CA alone and checks the name.
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates([
            try NIOSSLCertificate(bytes: Array(fixture.authority.certificatePEM.utf8), format: .pem)
        ])
        let client = NIOAsyncTestingChannel(loop: fixture.loop)
        let watcher = HandshakeWatcher()
        let context = try NIOSSLContext(configuration: tls)
        try await fixture.loop.executeInContext {
            try client.pipeline.syncOperations.addHandler(
                try NIOSSLClientHandler(context: context, serverHostname: "login.microsoftonline.com")
            )
            try client.pipeline.syncOperations.addHandler(watcher)
        }
        try await client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443))

        /// Carries what each side wrote to the other, and lets work done on other threads (minting) come back.
        func shuttle() async throws {
            while let bytes = try await client.readOutbound(as: ByteBuffer.self) { try await proxy.writeInbound(bytes) }
            try await Task.sleep(for: .milliseconds(5))
            await fixture.loop.run()
            while let bytes = try await proxy.readOutbound(as: ByteBuffer.self) { try await client.writeInbound(bytes) }
            await fixture.loop.run()
        }
        for _ in 0..<400 where !watcher.completed { try await shuttle() }
        #expect(watcher.completed, "the handshake completes with a leaf the CA signed for the SNI's name")

        // Inside the session: a Host header naming another host is refused by the exchange handler, upstream untouched.
        try await client.writeOutbound(
            ByteBuffer(
                string: "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n"
            )
        )
        for _ in 0..<200 where !String(buffer: watcher.received).contains("\r\n\r\n") { try await shuttle() }
        let answer = String(buffer: watcher.received)
        #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
        #expect(answer.contains("does not name login.microsoftonline.com"), "\(answer)")

        // TLS waits for the other side's close_notify, with a timer on the testing loop's clock: let it pass.
        client.close(promise: nil)
        proxy.close(promise: nil)
        await fixture.loop.advanceTime(by: .seconds(60))
        await fixture.loop.run()
        #expect(!proxy.isActive)
        try await fixture.shutdown()
    }
}
