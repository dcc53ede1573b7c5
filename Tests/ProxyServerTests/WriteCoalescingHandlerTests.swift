import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyServer

/// The handler above TLS that joins an answer's buffers into one record's worth of plaintext.
struct WriteCoalescingHandlerTests {
    static func buffer(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func outbound(_ channel: EmbeddedChannel) throws -> [String] {
        var written: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written.append(String(buffer: buffer)) }
        return written
    }

    @Test func buffersBetweenFlushesLeaveAsOneAndEveryPromiseCompletes() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescingHandler())
        let promises = (0..<3).map { _ in channel.eventLoop.makePromise(of: Void.self) }
        channel.write(Self.buffer("HTTP/1.1 200 OK\r\n\r\n"), promise: promises[0])
        channel.write(Self.buffer("{\"a\":1}"), promise: promises[1])
        channel.write(Self.buffer(""), promise: promises[2])
        #expect(try Self.outbound(channel) == [])
        channel.flush()
        #expect(try Self.outbound(channel) == ["HTTP/1.1 200 OK\r\n\r\n{\"a\":1}"])
        for promise in promises { try promise.futureResult.wait() }
        #expect(try channel.finish().isClean)
    }

    @Test func largeBuffersPassAsTheyAreInOrder() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescingHandler())
        let large = String(repeating: "x", count: 20_000)
        let nearlyFull = String(repeating: "y", count: 16_000)
        channel.write(Self.buffer("head "), promise: nil)
        channel.write(Self.buffer(large), promise: nil)
        channel.write(Self.buffer("a"), promise: nil)
        channel.write(Self.buffer(nearlyFull), promise: nil)
        channel.write(Self.buffer(String(repeating: "z", count: 500)), promise: nil)
        channel.flush()
        #expect(try Self.outbound(channel) == ["head ", large, "a" + nearlyFull, String(repeating: "z", count: 500)])
        #expect(try channel.finish().isClean)
    }

    /// On close, what was held is handed to the channel (which fails unflushed writes) instead of being dropped
    /// with its promises.
    @Test func closeHandsHeldWritesToTheChannel() throws {
        let channel = EmbeddedChannel(handler: WriteCoalescingHandler())
        channel.write(Self.buffer("never flushed"), promise: nil)
        _ = channel.close()
        guard case .leftOvers(_, _, let pending) = try channel.finish(acceptAlreadyClosed: true) else {
            Issue.record("the held write should be pending in the channel")
            return
        }
        #expect(pending.count == 1)
    }
}
