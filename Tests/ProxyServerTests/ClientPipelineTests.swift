import Audit
import CertificateAuthority
import ExchangePolicy
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import NIOSSL
import NetworkPolicy
import PolicyFiles
import PolicyService
import TenantPolicy
import Testing

@testable import ProxyServer

/// A client connection's pipeline, as `ProxyServer` builds it, without sockets: `ProxyRequestHandler` and whatever
/// it hands over to (`RawBytesHold`, `ClientHelloPeekHandler`, `SessionHandover`'s interception, refusals), driven by
/// seeded random orders of reads (whole, cut, pipelined or garbage), half-closes, errors, time passing and closes.
/// No order traps, and every run ends with the channel closed.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ClientPipelineTests {
    /// The shared dependencies on one testing loop. Destinations stay refused (no real connection is dialled: a
    /// bootstrap needs a real event loop), the creator is the default tenant, audit lines go to memory.
    final class Fixture: Sendable {
        let loop = NIOAsyncTestingEventLoop()
        let threadPool = NIOThreadPool(numberOfThreads: 1)
        let lookups = NameLookups(deadline: .seconds(10))
        let shared: ProxyContext
        let audit = MemorySink()
        /// The interception CA, for a client that trusts it.
        let authority: CertificateAuthority

        init() throws {
            threadPool.start()
            let configuration = ProxyConfiguration(defaultCreatorTenant: Fixtures.contoso)
            let loop = self.loop
            let authority = try CertificateAuthority.generate(
                commonName: "test CA",
                now: Date().addingTimeInterval(-60)
            )
            self.authority = authority
            let entraAddresses = EntraAddresses(ranges: [])
            let upstreamContext = try NIOSSLContextFactory.client()
            let dialer = UpstreamDialer(
                configuration: configuration,
                lookups: lookups,
                entraAddresses: entraAddresses,
                tlsContext: upstreamContext
            )
            let budget = BodyMemoryBudget(limit: configuration.bodyMemoryBudgetBytes)
            let log = AuditLog(sink: audit)
            shared = ProxyContext(
                configuration: configuration,
                policies: PolicyStore(bundle: PolicyBundle(isolation: PolicySet(), version: "v1"), nonEntraSTS: .audit),
                creators: CreatorResolver(
                    verifier: nil,
                    byClientAddress: AddressMap([]),
                    defaultCreator: configuration.defaultCreatorTenant
                ),
                dialer: dialer,
                entraAddresses: entraAddresses,
                leafContexts: LeafContextCache(authority: authority, capacity: 8, threadPool: threadPool),
                upstreamPools: PerEventLoop(group: loop) {
                    UpstreamConnectionPool(
                        eventLoop: $0,
                        tlsContext: upstreamContext,
                        configuration: configuration,
                        dialer: dialer,
                        bodyBudget: budget
                    )
                },
                auditBatches: PerEventLoop(group: loop) { AuditBatch(eventLoop: $0, log: log) },
                bodyBudget: budget,
                metrics: ProxyMetrics(),
                logger: Logger(label: "test")
            )
        }

        func shutdown() async throws {
            try await threadPool.shutdownGracefully()
            await lookups.shutdown()
            try await loop.shutdownGracefully()
        }
    }

    /// What a client may send, whole or cut at any byte.
    static let inputs: [String] = [
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nHost: login.microsoftonline.com:443\r\n\r\n",
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nProxy-Authorization: Bearer eyJhbGciOi\r\n\r\nJ9.tail\r\n\r\n",
        "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\n\r\nCONNECT a:443 HTTP/1.1\r\n\r\n",
        "\u{16}\u{03}\u{01}\u{00}\u{05}\u{01}\u{00}\u{00}\u{01}\u{00}",
        "\u{16}\u{03}\u{01}\u{ff}\u{ff}",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET http://127.0.0.1:65536/ HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "CONNECT login.microsoftonline.com:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        "\r\n\r\n\u{00}\u{00}GARBAGE",
    ]

    @Test(arguments: 0..<120)
    func randomEventOrdersNeverTrap(seed: Int) async throws {
        let fixture = try Fixture()
        var random = SeededRandom(seed: UInt64(seed) &* 7919)
        let channel = NIOAsyncTestingChannel(loop: fixture.loop)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 50_000))
        let shared = fixture.shared
        try await fixture.loop.executeInContext {
            let sync = channel.pipeline.syncOperations
            let deadline = RequestDeadlineHandler(head: .seconds(30))
            try sync.addHandler(IdleStateHandler(readTimeout: .seconds(120)))
            try sync.addHandler(deadline)
            try sync.addHandler(HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes))
            try sync.addHandler(HTTPResponseEncoder())
            try sync.addHandler(
                ProxyRequestHandler(
                    shared: shared,
                    deadline: deadline,
                    clientAddress: ConnectStateMachineTests.loopback
                )
            )
        }
        for _ in 0..<Int(random.next() % 10) + 2 {
            switch random.next() % 10 {
            case 0...4:
                var bytes = Array(Self.inputs[Int(random.next() % UInt64(Self.inputs.count))].utf8)
                if random.next() % 3 == 0 { bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count + 1)))) }
                try? await channel.writeInbound(ByteBuffer(bytes: bytes))
            case 5:
                let noise = (0..<Int(random.next() % 40)).map { _ in UInt8(random.next() % 256) }
                try? await channel.writeInbound(ByteBuffer(bytes: noise))
            case 6:
                channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            case 7:
                channel.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
            case 8:
                await fixture.loop.advanceTime(by: .seconds(Int64(random.next() % 40)))
            default:
                try? await channel.close()
            }
            // Work handed to other threads (the audit writer, leaf minting) comes back to the loop.
            try await Task.sleep(for: .milliseconds(5))
            await fixture.loop.run()
            while (try? await channel.readOutbound(as: ByteBuffer.self)) != nil {}
        }
        try? await channel.close()
        try await Task.sleep(for: .milliseconds(5))
        await fixture.loop.run()
        #expect(!channel.isActive, "seed \(seed)")
        try await fixture.shutdown()
    }
}

/// The upstream TLS context the pool needs (never used: no destination is reachable here).
enum NIOSSLContextFactory {
    static func client() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: .makeClientConfiguration())
    }
}
