import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The resource hosts' streaming endpoints, which never hold a body: what a proxy's data path is measured against.
///
/// - `GET /mock/stream/download?bytes=N`: N bytes (a repeating pattern) with a `Content-Length`, written only while
///   the connection can take them.
/// - any method to `/mock/stream/upload`: the body read and dropped as it comes, answered with its length and
///   SHA-256 (`{"received_bytes": N, "sha256": "…"}`).
/// - `GET /mock/stream/websocket` with a WebSocket upgrade: frames echoed (`MockStreams.upgrader`).
final class MockStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case passing
        case downloading(remaining: Int)
        case uploading(count: Int, digest: SHA256)
    }

    static let prefix = "/mock/stream/"
    private static let chunk = ByteBuffer(bytes: (0..<65536).map { UInt8(truncatingIfNeeded: $0 % 251) })
    private var state = State.passing

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            let host = head.headers.first(name: "host")?.split(separator: ":").first.map { $0.lowercased() } ?? ""
            guard MockResources.serves(host), head.uri.hasPrefix(Self.prefix) else {
                state = .passing
                return context.fireChannelRead(data)
            }
            if head.uri.hasPrefix(Self.prefix + "upload") {
                state = .uploading(count: 0, digest: SHA256())
            } else if head.uri.hasPrefix(Self.prefix + "download"), let bytes = Self.requestedBytes(head.uri) {
                state = .downloading(remaining: bytes)
                var headers = HTTPHeaders([("content-type", "application/octet-stream")])
                headers.add(name: "content-length", value: String(bytes))
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                    promise: nil
                )
            } else {
                state = .passing
                context.fireChannelRead(data)
            }
        case (.body(let body), .uploading(let count, var digest)):
            body.withUnsafeReadableBytes { digest.update(bufferPointer: $0) }
            state = .uploading(count: count + body.readableBytes, digest: digest)
        case (.end, .uploading(let count, let digest)):
            state = .passing
            let hex = digest.finalize().map { String(format: "%02x", $0) }.joined()
            let body = ByteBuffer(string: #"{"received_bytes":\#(count),"sha256":"\#(hex)"}"#)
            let headers = HTTPHeaders([
                ("content-type", "application/json"), ("content-length", String(body.readableBytes)),
            ])
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case (.end, .downloading):
            writeWhileWritable(context: context)
        case (_, .passing):
            context.fireChannelRead(data)
        case (.body, .downloading):
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .downloading = state { writeWhileWritable(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func writeWhileWritable(context: ChannelHandlerContext) {
        while case .downloading(let remaining) = state, context.channel.isWritable {
            guard remaining > 0 else {
                state = .passing
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
                return
            }
            let size = min(remaining, Self.chunk.readableBytes)
            state = .downloading(remaining: remaining - size)
            var part = Self.chunk
            part.moveWriterIndex(to: size)
            context.write(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
            context.flush()
        }
    }

    private static func requestedBytes(_ uri: String) -> Int? {
        guard let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") where pair.hasPrefix("bytes=") {
            return Int(pair.dropFirst("bytes=".count)).flatMap { $0 >= 0 ? $0 : nil }
        }
        return nil
    }
}

@available(*, unavailable)
extension MockStreamHandler: Sendable {}

enum MockStreams {
    /// Upgrades `GET /mock/stream/websocket` on a resource host to a WebSocket whose frames are echoed. The HTTP
    /// handlers the mock adds behind NIO's own are removed first: they would read frames as HTTP parts.
    static func upgrader(removing httpHandlers: [any RemovableChannelHandler]) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, head in
                let host = head.headers.first(name: "host")?.split(separator: ":").first.map { $0.lowercased() } ?? ""
                let upgrades = MockResources.serves(host) && head.uri.hasPrefix(MockStreamHandler.prefix + "websocket")
                return channel.eventLoop.makeSucceededFuture(upgrades ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    for handler in httpHandlers { sync.removeHandler(handler, promise: nil) }
                    try sync.addHandler(MockWebSocketEcho())
                }
            }
        )
    }
}

/// Sends every data frame back, answers ping with pong and close with close.
final class MockWebSocketEcho: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            let echo = WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(echo), promise: nil)
        case .ping:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)),
                promise: nil
            )
        case .connectionClose:
            context.writeAndFlush(
                wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: frame.unmaskedData))
            )
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        default:
            break
        }
    }
}

@available(*, unavailable)
extension MockWebSocketEcho: Sendable {}
