import NIOCore
import NIOEmbedded
import NIOHTTP1
import NetworkPolicy
import Testing

@testable import ProxyServer

/// The upstream end of the pool, in an `EmbeddedChannel` with the handlers the pool gives it: one
/// answer per request, and a connection whose framing cannot be trusted is closed, never reused.
struct UpstreamResponseHandlerTests {
    typealias Outcome = Result<NIOHTTPClientResponseFull, UpstreamError>

    static let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    /// An answer and, in the same read, what no request asked for (both pools' tests read these).
    static let bytesBeyondTheAnswer = [
        answer + "HTTP/1.1 200 OK\r\nX-Leak: A",
        "HTTP/1.1 204 No Content\r\nContent-Length: 20\r\n\r\nHTTP/1.1 200 OK\r\nX-In",
        "HTTP/1.1 304 Not Modified\r\nContent-Length: 20\r\n\r\nHTTP/1.1 200 OK\r\nX-In",
    ]

    static func channel(
        maxBodyBytes: Int = 1024,
        budget: BodyMemoryBudget = BodyMemoryBudget(limit: 1 << 20)
    ) throws -> (EmbeddedChannel, UpstreamResponseHandler) {
        let handler = UpstreamResponseHandler(maxBodyBytes: maxBodyBytes, bodyBudget: budget)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(HTTPRequestEncoder())
        try channel.pipeline.syncOperations.addHandler(
            HTTPDecoding.responseDecoder(leftOverBytes: .dropBytes, boundary: handler.boundary)
        )
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return (channel, handler)
    }

    static func send(_ handler: UpstreamResponseHandler, for client: String = "127.0.0.1", into outcomes: Box) {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/t/oauth2/v2.0/token")
        handler.send(head, body: nil, for: IPAddress(client)!, timeout: .seconds(30)) { outcomes.values.append($0) }
    }

    final class Box {
        var values: [Outcome] = []
    }

    @Test func oneAnswerIsReportedAndTheConnectionStaysOpen() throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        Self.send(handler, into: outcomes)
        try channel.writeInbound(ByteBuffer(string: Self.answer))
        #expect(outcomes.values.count == 1)
        #expect((try? outcomes.values.first?.get())?.head.status == .ok)
        #expect(channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// Answers being gathered are charged to the client that asked: one client's answers that stall short of their
    /// length fill its share of the body memory, not everyone's.
    @Test func anAnswersBodyIsChargedToItsClient() throws {
        let budget = BodyMemoryBudget(limit: 1 << 20)
        let head = "HTTP/1.1 200 OK\r\ncontent-length: \(budget.clientShare)\r\n\r\n"
        let most = String(repeating: "a", count: budget.clientShare - 1)
        var channels: [EmbeddedChannel] = []
        var outcomes: [Box] = []
        for client in ["10.0.0.1", "10.0.0.1", "10.0.0.2"] {
            let (channel, handler) = try Self.channel(maxBodyBytes: 1 << 20, budget: budget)
            let box = Box()
            Self.send(handler, for: client, into: box)
            try? channel.writeInbound(ByteBuffer(string: head + most))
            channels.append(channel)
            outcomes.append(box)
        }
        #expect(outcomes[0].values.isEmpty, "the first answer waits for its last byte")
        guard case .failure(let refused) = outcomes[1].values.first else {
            Issue.record("the same client's second answer is refused: \(outcomes[1].values)")
            return
        }
        #expect(refused.code == UpstreamError.overloaded.code)
        #expect(outcomes[2].values.isEmpty, "another client's answer is gathered")
        for channel in channels { _ = try? channel.finish(acceptAlreadyClosed: true) }
    }

    /// A server that answers twice in one read: the first answer stands, and the connection closes instead of
    /// going back to the pool, where the second would be taken for the next request's answer.
    @Test func aSecondAnswerInTheSameReadClosesTheConnection() throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        Self.send(handler, into: outcomes)
        try? channel.writeInbound(ByteBuffer(string: Self.answer + Self.answer))
        #expect(outcomes.values.count == 1)
        #expect((try? outcomes.values.first?.get())?.head.status == .ok)
        #expect(!channel.isActive)
    }

    /// Part of a second head, or a body on a 204 or 304, in the read that ended the answer: NIO's decoder emits
    /// nothing for it, so only the bytes it holds tell. The answer stands; the connection, whose next answer would
    /// begin with those bytes, closes (review 22).
    @Test(arguments: bytesBeyondTheAnswer)
    func partOfAnAnswerNobodyAskedForClosesTheConnection(_ bytes: String) throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        Self.send(handler, into: outcomes)
        try? channel.writeInbound(ByteBuffer(string: bytes))
        #expect(outcomes.values.count == 1)
        #expect((try? outcomes.values.first?.get()) != nil, "the answer stands")
        #expect(!channel.isActive)
    }

    /// Answers cut anywhere, their heads included, keep their connection for the next request.
    @Test(arguments: [1, 9, 17, 20, 33, 38])
    func answersCutAnywhereKeepTheConnection(at cut: Int) throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        for _ in 0..<3 {
            Self.send(handler, into: outcomes)
            try channel.writeInbound(ByteBuffer(string: String(Self.answer.prefix(cut))))
            try channel.writeInbound(ByteBuffer(string: String(Self.answer.dropFirst(cut))))
        }
        #expect(outcomes.values.compactMap { try? $0.get().head.status } == [.ok, .ok, .ok])
        #expect(channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// A 101 to a token request, which asked for no switch: a malformed answer, and the connection is closed.
    @Test func aProtocolSwitchNobodyAskedForIsMalformed() throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        Self.send(handler, into: outcomes)
        try? channel.writeInbound(
            ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nxyz")
        )
        guard case .failure(let failure) = outcomes.values.first else {
            Issue.record("a 101 is no token answer")
            return
        }
        #expect(failure.code == .malformedResponse)
        #expect(!channel.isActive)
    }

    /// Bytes nobody asked for while the connection is idle in the pool, even less than a head: closed at once.
    @Test func bytesWhileIdleCloseTheConnection() throws {
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        Self.send(handler, into: outcomes)
        try channel.writeInbound(ByteBuffer(string: Self.answer))
        #expect(channel.isActive)
        try? channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200"))
        #expect(!channel.isActive)
        Self.send(handler, into: outcomes)
        guard case .failure(let failure) = outcomes.values.last else {
            Issue.record("a closed connection sends nothing")
            return
        }
        #expect(failure.code == .notSent)
    }

    /// Random orders of sends, answers (whole, cut, doubled, garbage), closes and errors: no trap, every
    /// completion runs exactly once per send, and a channel that was closed stays closed.
    @Test(arguments: 0..<200)
    func randomEventOrdersNeverTrap(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed))
        let (channel, handler) = try Self.channel()
        let outcomes = Box()
        var sends = 0
        for _ in 0..<12 {
            switch random.next() % 8 {
            case 0, 1:
                Self.send(handler, into: outcomes)
                sends += 1
            case 2:
                try? channel.writeInbound(ByteBuffer(string: Self.answer))
            case 3:
                try? channel.writeInbound(ByteBuffer(string: String(Self.answer.prefix(Int(random.next() % 30)))))
            case 4:
                try? channel.writeInbound(ByteBuffer(string: Self.answer + Self.answer))
            case 5:
                try? channel.writeInbound(
                    ByteBuffer(bytes: (0..<Int(random.next() % 64)).map { _ in UInt8(random.next() % 256) })
                )
            case 6:
                channel.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
            default:
                _ = channel.close()
            }
            channel.embeddedEventLoop.run()
        }
        _ = channel.close()
        channel.embeddedEventLoop.run()
        #expect(outcomes.values.count == sends, "seed \(seed): \(sends) sends, \(outcomes.values.count) completions")
        #expect(!channel.isActive)
    }
}

/// SplitMix64: a small seeded generator, so a failing seed replays.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
