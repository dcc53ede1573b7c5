import NIOCore
import NIOEmbedded
import NetworkPolicy
import Testing

@testable import ProxyServer

/// The parent proxy's CONNECT, in an `EmbeddedChannel`: what the parent answers decides whether the connection's own
/// handlers ever see it active, and a hostile or broken parent is a failure that names it.
struct ParentTunnelHandlerTests {
    /// Records what reaches the connection's own handlers.
    final class Behind: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        var active = false
        var received: [String] = []

        func channelActive(context: ChannelHandlerContext) { active = true }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received.append(String(buffer: unwrapInboundIn(data)))
        }
    }

    static let parent = try! ParentProxy(url: "http://10.0.0.3:3128", credentials: "user:pw", bypass: [])

    /// A connected channel with the handler first and `Behind` after it, its CONNECT already written.
    static func connected() throws -> (EmbeddedChannel, Behind, EventLoopFuture<Void>) {
        let channel = EmbeddedChannel()
        let established = channel.eventLoop.makePromise(of: Void.self)
        let behind = Behind()
        try channel.pipeline.syncOperations.addHandlers(
            ParentTunnelHandler(
                parent: parent,
                target: HostPort(host: "login.microsoftonline.com", port: 443),
                timeout: .seconds(5),
                established: established
            ),
            behind
        )
        try channel.connect(to: SocketAddress(ipAddress: "10.0.0.3", port: 3128)).wait()
        return (channel, behind, established.futureResult)
    }

    @Test func aTwoHundredOpensTheTunnelAndPassesWhatFollowsOn() throws {
        let (channel, behind, established) = try Self.connected()
        let connect = String(buffer: try #require(try channel.readOutbound(as: ByteBuffer.self)))
        #expect(connect.hasPrefix("CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n"))
        #expect(connect.contains("Proxy-Authorization: Basic dXNlcjpwdw==\r\n"))
        #expect(!behind.active)
        // The answer in two pieces, and the server's first bytes in the same read as its end.
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 Connection est"))
        #expect(!behind.active)
        try channel.writeInbound(ByteBuffer(string: "ablished\r\n\r\nSSH-2.0-banner"))
        #expect(behind.active)
        #expect(behind.received == ["SSH-2.0-banner"])
        try established.wait()
        _ = try channel.finish()
    }

    @Test(arguments: [
        ("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", "answered 407 Proxy Authentication Required"),
        ("HTTP/1.0 403 Forbidden\r\nX: y\r\n\r\n", "answered 403 Forbidden"),
        ("SSH-2.0-not-a-proxy\r\n\r\n", "answered the CONNECT with 'SSH-2.0-not-a-proxy'"),
        ("HTTP/1.1 403 Bad\u{1b}[2J\r\nX: y\r\n\r\n", "answered 403 Bad[2J to"),
        ("17 KB of head", "more than 16 KiB"),
        // Three digits, as the grammar says: Swift's `Int` read "+200" as 200 and the tunnel opened.
        ("HTTP/1.1 +200 OK\r\n\r\n", "answered the CONNECT with 'HTTP/1.1 +200 OK'"),
        ("HTTP/1.1 0200 OK\r\n\r\n", "answered the CONNECT with 'HTTP/1.1 0200 OK'"),
    ])
    func aRefusalOrAnythingElseIsAFailureNamingTheParent(answer: String, said: String) throws {
        let (channel, behind, established) = try Self.connected()
        _ = try channel.readOutbound(as: ByteBuffer.self)
        let bytes = answer == "17 KB of head" ? String(repeating: "X", count: 17_000) : answer
        _ = try? channel.writeInbound(ByteBuffer(string: bytes))
        #expect(!behind.active)
        #expect(throws: UpstreamError.self) { try established.wait() }
        do {
            try established.wait()
        } catch let error as UpstreamError {
            #expect(error.code == .parentFailed)
            #expect(error.detail.hasPrefix("the parent proxy 10.0.0.3:3128 "), "\(error.detail)")
            #expect(error.detail.contains(said), "\(error.detail)")
            #expect(!error.detail.contains("pw"))
        }
        #expect(!channel.isActive)
    }

    /// An answer a byte a read is searched only where it grew (it was searched whole on every read), and a head end
    /// split over reads is still found.
    @Test func anAnswerTrickledAByteAtATimeOpensTheTunnel() throws {
        let (channel, behind, established) = try Self.connected()
        _ = try channel.readOutbound(as: ByteBuffer.self)
        for byte in "HTTP/1.1 200 Connection established\r\nVia: 1.1 parent\r\n\r".utf8 {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(!behind.active)
        try channel.writeInbound(ByteBuffer(string: "\nbanner"))
        try #require(behind.active)
        #expect(behind.received == ["banner"])
        try established.wait()
        _ = try channel.finish()
    }

    @Test func aParentThatClosesOrNeverAnswersFails() throws {
        let (closing, _, closed) = try Self.connected()
        closing.pipeline.fireChannelInactive()
        #expect(throws: UpstreamError.self) { try closed.wait() }

        let (silent, behind, answered) = try Self.connected()
        (silent.eventLoop as! EmbeddedEventLoop).advanceTime(by: .seconds(6))
        #expect(!behind.active)
        do {
            try answered.wait()
            Issue.record("a silent parent was believed")
        } catch let error as UpstreamError {
            #expect(error.code == .timedOut)
            #expect(error.detail.contains("did not answer the CONNECT"))
        }
    }
}
