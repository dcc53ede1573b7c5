import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ProxyServer

/// Review 22: bytes an upstream sent after an answer's end (part of a second head, a body on a 204 or 304) stayed in
/// the decoder, and the pooled connection's next answer, to another client, began with them. A connection whose
/// decoder holds unread bytes serves no other request.
struct UpstreamFramingTests {
    /// Whether the decoder holds unread bytes once `answer` (to a `method` request) was read, before any close.
    static func holdsBytes(after answer: String, to method: HTTPMethod = .GET) throws -> Bool {
        let framing = UpstreamFraming()
        let channel = EmbeddedChannel(
            handler: HTTPDecoding.responseDecoder(leftOverBytes: .dropBytes, framing: framing)
        )
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: "/", headers: ["Host": "graph.microsoft.com"])
        try channel.writeOutbound(HTTPClientRequestPart.head(head))
        try channel.writeInbound(ByteBuffer(string: answer))
        while try channel.readInbound(as: HTTPClientResponsePart.self) != nil {}
        let holds = framing.holdsUnreadBytes
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return holds
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nX-Leak: A",
        "HTTP/1.1 204 No Content\r\nContent-Length: 20\r\n\r\nHTTP/1.1 200 OK\r\nX-In",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\nHTTP/1.1 200 OK\r\nX-In",
    ])
    func bytesLeftAfterAnAnswerAreSeen(_ answer: String) throws {
        #expect(try Self.holdsBytes(after: answer))
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 204 No Content\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ])
    func aCleanAnswerLeavesNothing(_ answer: String) throws {
        #expect(try !Self.holdsBytes(after: answer))
    }

    /// An answer to HEAD has no body whatever its Content-Length: the decoder still sees the request's method.
    @Test func anAnswerToHeadIsCleanWithoutItsBody() throws {
        #expect(try !Self.holdsBytes(after: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", to: .HEAD))
    }
}
