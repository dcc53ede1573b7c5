import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ProxyServer

/// A streaming upstream connection (resource hosts) in an `EmbeddedChannel` with the handlers the pool gives it.
/// The session that holds it gives it back to the pool as an answer ends, inside the read: bytes that came after
/// the answer in that read must close it before another client's request goes on it (review 22 saw part of a
/// second head reach another client as a header).
struct UpstreamStreamHandlerTests {
    final class Session: UpstreamStreamDelegate {
        var parts: [HTTPClientResponsePart] = []
        var ended: [UpstreamError?] = []
        /// Gives the connection back on each answer's end, as `ResourceSessionHandler` does.
        let onEnd: () -> Void

        init(onEnd: @escaping () -> Void = {}) { self.onEnd = onEnd }

        func upstreamRead(_ part: HTTPClientResponsePart) {
            parts.append(part)
            if case .end = part { onEnd() }
        }
        func upstreamReadComplete() {}
        func upstreamWritabilityChanged(isWritable: Bool) {}
        func upstreamEnded(_ error: UpstreamError?) { ended.append(error) }
    }

    static func channel() throws -> (EmbeddedChannel, UpstreamStreamHandler) {
        let handler = UpstreamStreamHandler()
        let channel = EmbeddedChannel()
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(HTTPRequestEncoder())
        try sync.addHandler(HTTPDecoding.responseDecoder(leftOverBytes: .forwardBytes, boundary: handler.boundary))
        try sync.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return (channel, handler)
    }

    static func ask(_ channel: EmbeddedChannel, _ method: HTTPMethod = .GET, upgrade: Bool = false) throws {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: "/v1.0/me")
        head.headers.add(name: "host", value: "graph.microsoft.com")
        if upgrade { head.headers.add(contentsOf: [("connection", "Upgrade"), ("upgrade", "websocket")]) }
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeOutbound(HTTPClientRequestPart.end(nil))
        while try channel.readOutbound(as: ByteBuffer.self) != nil {}
    }

    static let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test(arguments: UpstreamResponseHandlerTests.bytesBeyondTheAnswer)
    func bytesAfterAnAnswerInItsReadCloseTheConnection(_ bytes: String) throws {
        let (channel, handler) = try Self.channel()
        let session = Session { handler.delegate = nil }
        handler.delegate = session
        try Self.ask(channel)
        try? channel.writeInbound(ByteBuffer(string: bytes))
        #expect(session.parts.count == 2 || session.parts.count == 3, "the answer went to its session")
        #expect(!channel.isActive)
    }

    /// Bytes while the connection waits in the pool, even less than a head: closed at once.
    @Test func bytesWhileParkedCloseTheConnection() throws {
        let (channel, handler) = try Self.channel()
        let session = Session { handler.delegate = nil }
        handler.delegate = session
        try Self.ask(channel)
        try channel.writeInbound(ByteBuffer(string: Self.answer))
        #expect(channel.isActive)
        try? channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nX-Le"))
        #expect(!channel.isActive)
    }

    /// Answers cut anywhere, their heads included, and answers to HEAD keep the connection for the next request.
    @Test(arguments: [1, 9, 17, 20, 33, 38])
    func answersCutAnywhereKeepTheConnection(at cut: Int) throws {
        let (channel, handler) = try Self.channel()
        let session = Session()
        handler.delegate = session
        for _ in 0..<3 {
            try Self.ask(channel)
            try channel.writeInbound(ByteBuffer(string: String(Self.answer.prefix(cut))))
            try channel.writeInbound(ByteBuffer(string: String(Self.answer.dropFirst(cut))))
        }
        try Self.ask(channel, .HEAD)
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"))
        let ends = session.parts.filter { if case .end = $0 { true } else { false } }
        #expect(ends.count == 4)
        #expect(channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// A WebSocket's first frames may come with its 101: they wait for the splice, and close nothing.
    @Test func framesAfterASwitchWaitForTheSplice() throws {
        let (channel, handler) = try Self.channel()
        let session = Session()
        handler.delegate = session
        try Self.ask(channel, upgrade: true)
        try channel.writeInbound(
            ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\u{81}\u{02}hi")
        )
        #expect(session.parts.count == 2)
        #expect(channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
