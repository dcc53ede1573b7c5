import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One client connection through the proxy to an intercepted host, kept open between requests, as a connector host
/// keeps its connections: what shows a policy change reaching a connection that is already open.
package final class HeldConnection: Sendable {
    private let channel: any Channel
    private let answers: NIOLoopBound<AnswerCollector>
    private let host: String

    private init(channel: any Channel, answers: NIOLoopBound<AnswerCollector>, host: String) {
        self.channel = channel
        self.answers = answers
        self.host = host
    }

    /// CONNECT `host`:443 through the proxy on `proxyPort` (with the maker's token), then TLS trusting `caPath`.
    package static func open(
        proxyPort: Int,
        caPath: String,
        host: String,
        makerToken: String,
        group: any EventLoopGroup
    ) async throws -> HeldConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectAnswer())
                }
            }
            .connect(host: "127.0.0.1", port: proxyPort)
            .get()
        let connect =
            "CONNECT \(host):443 HTTP/1.1\r\nHost: \(host):443\r\nProxy-Authorization: Bearer \(makerToken)\r\n\r\n"
        let tls = try NIOSSLContext(
            configuration: {
                var configuration = TLSConfiguration.makeClientConfiguration()
                configuration.trustRoots = .file(caPath)
                return configuration
            }()
        )
        do {
            let answers = try await channel.eventLoop.flatSubmit {
                let waiting = channel.eventLoop.makePromise(of: String.self)
                do {
                    try channel.pipeline.syncOperations.handler(type: ConnectAnswer.self).answer = waiting
                } catch {
                    waiting.fail(error)
                }
                channel.writeAndFlush(ByteBuffer(string: connect), promise: nil)
                return waiting.futureResult.flatMapThrowing { head in
                    guard head.hasPrefix("HTTP/1.1 200") else {
                        throw HeldConnectionError(description: "the proxy refused the CONNECT: \(head.prefix(200))")
                    }
                    let sync = channel.pipeline.syncOperations
                    sync.removeHandler(try sync.handler(type: ConnectAnswer.self), promise: nil)
                    try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: host))
                    try sync.addHTTPClientHandlers()
                    let collector = AnswerCollector()
                    try sync.addHandler(collector)
                    return NIOLoopBound(collector, eventLoop: channel.eventLoop)
                }
            }.get()
            return HeldConnection(channel: channel, answers: answers, host: host)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// GET `path` with `bearer` on this connection; the answer's status.
    package func get(_ path: String, bearer: String) async throws -> Int {
        var headers = HTTPHeaders([("host", host), ("authorization", "Bearer \(bearer)")])
        headers.add(name: "connection", value: "keep-alive")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let channel = self.channel
        let answers = self.answers
        return try await channel.eventLoop.flatSubmit {
            let status = channel.eventLoop.makePromise(of: Int.self)
            answers.value.waiting = status
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            // Bounded: a proxy that never answers fails the simulation rather than hanging it.
            let timeout = channel.eventLoop.scheduleTask(in: .seconds(20)) {
                status.fail(HeldConnectionError(description: "no answer within 20 s"))
            }
            return status.futureResult.always { _ in timeout.cancel() }
        }.get()
    }

    package func close() async {
        try? await channel.close()
    }
}

struct HeldConnectionError: Error, CustomStringConvertible {
    let description: String
}

/// Reads the proxy's answer to the CONNECT, up to the end of its head.
private final class ConnectAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    var answer: EventLoopPromise<String>?
    private var head = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        head += String(buffer: unwrapInboundIn(data))
        if head.contains("\r\n\r\n") {
            answer?.succeed(head)
            answer = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answer?.fail(HeldConnectionError(description: "the proxy closed the connection: \(head.prefix(200))"))
        answer = nil
    }
}

/// The status of each answer, reported once its end has arrived (the body is not needed).
private final class AnswerCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    var waiting: EventLoopPromise<Int>?
    private var status = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end:
            waiting?.succeed(status)
            waiting = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.fail(HeldConnectionError(description: "the connection closed before an answer"))
        waiting = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        waiting?.fail(error)
        waiting = nil
        context.close(promise: nil)
    }
}
