import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ProxyServer

/// What a client sends after its CONNECT waits in a `RawBytesHold`: in order, bounded, and never passed on as if
/// it were HTTP.
struct RawBytesHoldTests {
    /// The decoder leaves a tick later and forwards the bytes it still held: they land in the hold, behind
    /// nothing and ahead of every later read.
    @Test func theDecodersLeftoversComeFirstAndLaterReadsFollow() throws {
        let channel = EmbeddedChannel()
        let decoder = HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes)
        let hold = RawBytesHold()
        try channel.pipeline.syncOperations.addHandler(decoder)
        try channel.writeInbound(ByteBuffer(string: "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\nfirst"))
        #expect(
            try channel.readInbound(as: HTTPServerRequestPart.self).map { if case .head = $0 { true } else { false } }
                == true
        )
        _ = try channel.readInbound(as: HTTPServerRequestPart.self)
        try channel.pipeline.syncOperations.addHandler(hold, position: .after(decoder))
        let removed = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.syncOperations.removeHandler(decoder, promise: removed)
        try channel.writeInbound(ByteBuffer(string: "-second"))
        channel.embeddedEventLoop.run()
        try removed.futureResult.wait()
        try channel.writeInbound(ByteBuffer(string: "-third"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil, "nothing passes the hold")
        // Handed over as `SessionHandover.replace` does: replayed from the hold's place, in order.
        let context = try channel.pipeline.syncOperations.context(handler: hold)
        for data in hold.takeHeld() { context.fireChannelRead(data) }
        var replayed = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { replayed += String(buffer: buffer) }
        #expect(replayed == "first-second-third")
        #expect(hold.takeHeld().isEmpty, "taking empties the hold")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// The client's FIN right behind its CONNECT and its first bytes: NIO's decoder drops the bytes at EOF; the
    /// proxy's passes them on to the hold, once, for the tunnel to send before the FIN.
    @Test func bytesAheadOfTheClientsFINReachTheHoldOnce() throws {
        let channel = EmbeddedChannel()
        let decoder = HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes)
        let hold = RawBytesHold()
        try channel.pipeline.syncOperations.addHandler(decoder)
        try channel.writeInbound(ByteBuffer(string: "CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\nPING"))
        _ = try channel.readInbound(as: HTTPServerRequestPart.self)
        _ = try channel.readInbound(as: HTTPServerRequestPart.self)
        try channel.pipeline.syncOperations.addHandler(hold, position: .after(decoder))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let removed = channel.eventLoop.makePromise(of: Void.self)
        channel.pipeline.syncOperations.removeHandler(decoder, promise: removed)
        channel.embeddedEventLoop.run()
        try removed.futureResult.wait()
        let context = try channel.pipeline.syncOperations.context(handler: hold)
        for data in hold.takeHeld() { context.fireChannelRead(data) }
        var replayed = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { replayed += String(buffer: buffer) }
        #expect(replayed == "PING")
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aClientThatKeepsSendingBeforeTheAnswerIsClosed() throws {
        let hold = RawBytesHold()
        let channel = EmbeddedChannel(handler: hold)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for index in 0..<RawBytesHold.maxReads {
            try channel.writeInbound(ByteBuffer(string: "\(index)"))
        }
        #expect(channel.isActive)
        try? channel.writeInbound(ByteBuffer(string: "one too many"))
        #expect(!channel.isActive)
    }
}
