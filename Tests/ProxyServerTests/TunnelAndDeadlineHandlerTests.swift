import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import ProxyServer

/// The blind tunnel's `GlueHandler` pair and the request-head `RequestDeadlineHandler`, in `EmbeddedChannel`s, driven
/// by seeded random orders of reads, half-closes, errors, removals, closes and time: no trap, bytes cross in order
/// while both sides are open, and every run ends with both channels closed.
struct TunnelAndDeadlineHandlerTests {
    static func outbound(_ channel: EmbeddedChannel) -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { bytes += buffer.readableBytesView }
        return bytes
    }

    /// A glue pair splicing two connected channels on one loop.
    static func tunnel() throws -> (EmbeddedEventLoop, client: EmbeddedChannel, server: EmbeddedChannel) {
        let loop = EmbeddedEventLoop()
        let (local, remote) = GlueHandler.matchedPair()
        let client = EmbeddedChannel(handler: local, loop: loop)
        let server = EmbeddedChannel(handler: remote, loop: loop)
        try client.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try server.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2)).wait()
        return (loop, client, server)
    }

    /// Bytes handed over outside a read (a decoder's leftovers when a WebSocket session is spliced: a first frame sent
    /// with the 101) have no read's end to flush them; the far side's close then dropped them (review 22).
    @Test(arguments: [true, false])
    func bytesHandedOverOutsideAReadGoOutBeforeTheClose(halfClose: Bool) throws {
        let (loop, client, server) = try Self.tunnel()
        // A read with no read-complete after it, as a removed decoder forwards what it held.
        server.pipeline.fireChannelRead(ByteBuffer(string: "first frame"))
        if halfClose {
            server.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        } else {
            server.pipeline.fireChannelInactive()
        }
        loop.run()
        #expect(Self.outbound(client) == Array("first frame".utf8))
    }

    @Test(arguments: 0..<150)
    func aTunnelUnderRandomEventsNeverTraps(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 101)
        let (loop, client, server) = try Self.tunnel()
        var sentToServer: [UInt8] = []
        var receivedByServer: [UInt8] = []
        for _ in 0..<16 {
            let side = random.next() % 2 == 0 ? client : server
            switch random.next() % 8 {
            case 0, 1, 2:
                let bytes = (0..<Int(random.next() % 32)).map { _ in UInt8(random.next() % 256) }
                if side === client, client.isActive, server.isActive { sentToServer += bytes }
                try? side.writeInbound(ByteBuffer(bytes: bytes))
            case 3:
                side.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            case 4:
                side.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
            case 5:
                side.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.all)
            case 6:
                side.pipeline.fireChannelWritabilityChanged()
            default:
                _ = side.close()
            }
            loop.run()
            receivedByServer += Self.outbound(server)
            _ = Self.outbound(client)
        }
        // What the client sent while both sides were open reached the server, in order.
        #expect(receivedByServer.starts(with: sentToServer) || !server.isActive || !client.isActive, "seed \(seed)")
        _ = client.close()
        loop.run()
        #expect(!client.isActive && !server.isActive, "closing one side closes the other (seed \(seed))")
    }

    @Test(arguments: 0..<150)
    func theRequestDeadlineUnderRandomEventsNeverTraps(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 907)
        let deadline = RequestDeadlineHandler(
            head: .seconds(30),
            handshake: random.next() % 2 == 0 ? .seconds(10) : nil
        )
        let channel = EmbeddedChannel(handler: deadline)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for _ in 0..<14 {
            switch random.next() % 9 {
            case 0, 1:
                try? channel.writeInbound(ByteBuffer(string: "GET /"))
                _ = try? channel.readInbound(as: ByteBuffer.self)
            case 2: deadline.headReceived()
            case 3: deadline.answered()
            case 4: channel.embeddedEventLoop.advanceTime(by: .seconds(Int64(random.next() % 40)))
            case 5:
                channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
            case 6: _ = try? channel.pipeline.syncOperations.removeHandler(deadline).wait()
            case 7: channel.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
            default: _ = channel.close()
            }
        }
        // Past every deadline, a connection still waiting for a head or a handshake is closed (408 or not).
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        _ = channel.close()
        #expect(!channel.isActive, "seed \(seed)")
    }

    /// The timer set for an earlier head that arrived in time fires during a later head: it waits on for the later
    /// head's own deadline, neither expiring it early nor forgetting it.
    @Test func aLaterHeadGetsItsWholeDeadlineFromTheTimerAnEarlierOneLeft() throws {
        let deadline = RequestDeadlineHandler(head: .seconds(10))
        let channel = EmbeddedChannel(handler: deadline)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n"))
        deadline.headReceived()
        deadline.answered()
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try channel.writeInbound(ByteBuffer(string: "GET /second"))
        // The first head's timer fires here, 4 s into the second head's 10.
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        let answer = try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) }
        #expect(answer?.hasPrefix("HTTP/1.1 408") == true, "\(answer ?? "nothing")")
        #expect(!channel.isActive)
    }
}
