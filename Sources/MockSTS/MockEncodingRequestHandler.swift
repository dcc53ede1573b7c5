import NIOCore
import NIOHTTP1

/// Lets a test make the mock compress an answer whatever the client asked: `mock_encoding=gzip|deflate` in the
/// query becomes the request's `Accept-Encoding` before NIO's compressor reads it. A real STS honours the proxy's
/// `identity`; this is how a test shows what TenantGate does with one that does not.
final class MockEncodingRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else { return context.fireChannelRead(data) }
        for coding in ["gzip", "deflate"] where head.uri.contains("mock_encoding=\(coding)") {
            head.headers.replaceOrAdd(name: "accept-encoding", value: coding)
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

@available(*, unavailable)
extension MockEncodingRequestHandler: Sendable {}
