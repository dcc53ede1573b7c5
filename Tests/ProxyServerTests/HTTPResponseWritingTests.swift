import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ProxyServer

/// Headers that describe one hop are dropped on the way through, in any spelling; the others pass untouched. A whole
/// answer leaves one TLS record's worth per flush.
struct HTTPResponseWritingTests {
    /// The answer to a HEAD is its head alone, stating the upstream's length, or that of the body not sent (review 63
    /// F3: a refusal's body followed the head on an STS's session, and a forwarded one stated 0).
    @Test(arguments: [("35", "35"), (nil, "7")] as [(String?, String)])
    func theAnswerToAHeadIsItsHeadAlone(upstreamLength: String?, stated: String) throws {
        let answering = AnsweringHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([HTTPResponseEncoder(), answering])
        let written = HTTPResponseWriting.write(
            status: .ok,
            headers: [:],
            body: ByteBuffer(string: "refused"),
            keepAlive: true,
            headLength: upstreamLength,
            answersHead: true,
            context: try #require(answering.context),
            wrap: answering.wrapOutboundOut
        )
        try written.wait()
        var sent = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { sent.writeBuffer(&part) }
        let text = String(buffer: sent)
        #expect(text.hasSuffix("\r\n\r\n") && text.contains("content-length: \(stated)\r\n"), "\(text)")
    }

    /// NIOSSL seals what one flush carries into a buffer it keeps at that size until the connection writes again:
    /// review 26's 800 idle sessions that each got a 200 KB answer flushed at once held 280 MiB. Every flush now
    /// carries at most one record's plaintext (and the head), and the body still arrives whole and in order.
    @Test func aLargeAnswerLeavesOneRecordPerFlush() throws {
        let recorder = FlushRecorder()
        let answering = AnsweringHandler()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            recorder, WriteCoalescingHandler(), HTTPResponseEncoder(), answering,
        ])
        let body = ByteBuffer(bytes: (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let written = HTTPResponseWriting.write(
            status: .ok,
            headers: ["content-type": "application/json"],
            body: body,
            keepAlive: true,
            context: try #require(answering.context),
            wrap: answering.wrapOutboundOut
        )
        try written.wait()
        var sent = ByteBuffer()
        while var part = try channel.readOutbound(as: ByteBuffer.self) { sent.writeBuffer(&part) }
        let headLength = sent.readableBytes - 200_000
        #expect(String(buffer: try #require(sent.getSlice(at: 0, length: headLength))).hasSuffix("\r\n\r\n"))
        #expect(sent.getSlice(at: headLength, length: 200_000) == body)
        #expect(recorder.batches.count > 12, "\(recorder.batches)")
        #expect(
            recorder.batches.allSatisfy { $0 <= WriteCoalescingHandler.recordPlaintextLimit + 256 },
            "\(recorder.batches)"
        )
        #expect(try channel.finish().isClean)
    }

    @Test func hopByHopHeadersAreDroppedWhateverTheirCase() {
        let client = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/t/oauth2/v2.0/token",
            headers: [
                "Host": "login.microsoftonline.com", "Proxy-Authorization": "Bearer maker", "CONNECTION": "keep-alive",
                "Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded", "TE": "trailers",
                "Content-Length": "99", "x-ms-client-request-id": "abc",
            ]
        )
        let upstream = HTTPResponseWriting.upstreamHead(
            from: client,
            uri: client.uri,
            host: "login.microsoftonline.com",
            bodyLength: 12
        )
        #expect(upstream.headers.map(\.name) == ["Content-Type", "x-ms-client-request-id", "host", "content-length"])
        #expect(upstream.headers["content-length"] == ["12"])
    }

    @Test func answersWithoutHopByHopHeadersPassUnchanged() {
        let headers: HTTPHeaders = [
            "content-type": "application/json", "cache-control": "no-store", "x-ms-request-id": "1",
        ]
        #expect(HTTPResponseWriting.forwardable(headers) == headers)
        let framed: HTTPHeaders = [
            "content-type": "application/json", "Content-Length": "10", "Keep-Alive": "timeout=5",
        ]
        #expect(HTTPResponseWriting.forwardable(framed) == ["content-type": "application/json"])
    }

    @Test func namesThatOnlyResembleHopByHopOnesAreKept() {
        for name in ["connections", "te2", "x-connection", "content-lengths", "upgrade-insecure-requests"] {
            #expect(!HTTPResponseWriting.isHopByHop(name))
        }
        for name in HTTPResponseWriting.hopByHop {
            #expect(HTTPResponseWriting.isHopByHop(name.description.uppercased()))
        }
    }
}

/// Counts the bytes each flush carries, as the TLS handler below would seal them.
private final class FlushRecorder: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    private(set) var batches: [Int] = []
    private var sinceFlush = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .byteBuffer(let buffer) = unwrapOutboundIn(data) { sinceFlush += buffer.readableBytes }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        batches.append(sinceFlush)
        sinceFlush = 0
        context.flush()
    }
}

/// The place an answer is written from, as the session handlers write theirs.
private final class AnsweringHandler: ChannelInboundHandler {
    typealias InboundIn = Never
    typealias OutboundOut = HTTPServerResponsePart
    private(set) var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
}
