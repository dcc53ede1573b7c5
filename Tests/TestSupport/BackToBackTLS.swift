import NIOCore
import NIOEmbedded
import NIOSSL
import NIOTLS

/// A TLS client in a testing channel, its bytes carried back to back to a server-side testing channel on the same
/// loop, as swift-nio-ssl's own tests pair `EmbeddedChannel`s: a real handshake and real records, no socket.
package final class BackToBackTLSClient: @unchecked Sendable {
    /// Keeps the client side's handshake outcome and what it decrypted.
    private final class Watcher: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var completed = false
        var received = ByteBuffer()

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .handshakeCompleted = event as? TLSUserEvent { completed = true }
            context.fireUserInboundEventTriggered(event)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.writeBuffer(&bytes)
        }
    }

    package let channel: NIOAsyncTestingChannel
    private let loop: NIOAsyncTestingEventLoop
    private let watcher = Watcher()

    /// A client that trusts only `trustedRootPEM` and asks for `serverName` in its SNI (none when nil).
    package init(loop: NIOAsyncTestingEventLoop, trustedRootPEM: String, serverName: String?) async throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.trustRoots = .certificates([
            try NIOSSLCertificate(bytes: Array(trustedRootPEM.utf8), format: .pem)
        ])
        if serverName == nil { configuration.certificateVerification = .noHostnameVerification }
        let context = try NIOSSLContext(configuration: configuration)
        self.loop = loop
        self.channel = NIOAsyncTestingChannel(loop: loop)
        let (channel, watcher) = (self.channel, self.watcher)
        try await loop.executeInContext {
            try channel.pipeline.syncOperations.addHandler(
                try NIOSSLClientHandler(context: context, serverHostname: serverName)
            )
            try channel.pipeline.syncOperations.addHandler(watcher)
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443))
    }

    package var handshakeCompleted: Bool { watcher.completed }
    /// What the server sent, decrypted.
    package var received: String { String(buffer: watcher.received) }

    /// Carries what each side wrote to the other, once each way, and lets work done on other threads (a leaf being
    /// minted) come back to the loop.
    package func shuttle(with server: NIOAsyncTestingChannel) async throws {
        while let bytes = try await channel.readOutbound(as: ByteBuffer.self) { try await server.writeInbound(bytes) }
        try await Task.sleep(for: .milliseconds(5))
        await loop.run()
        while let bytes = try await server.readOutbound(as: ByteBuffer.self) { try await channel.writeInbound(bytes) }
        await loop.run()
    }

    /// Shuttles until `done` holds, at most `rounds` times.
    package func shuttle(with server: NIOAsyncTestingChannel, rounds: Int, until done: () -> Bool) async throws {
        for _ in 0..<rounds where !done() { try await shuttle(with: server) }
    }

    /// Sends `text` inside the session.
    package func send(_ text: String) async throws {
        try await channel.writeOutbound(ByteBuffer(string: text))
    }

    /// Closes both sides. TLS waits for the other side's close_notify with a timer on the testing loop's clock:
    /// time is moved past it.
    package func close(with server: NIOAsyncTestingChannel) async {
        channel.close(promise: nil)
        server.close(promise: nil)
        await loop.advanceTime(by: .seconds(60))
        await loop.run()
    }
}
