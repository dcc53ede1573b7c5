import NIOCore
import NIOHTTP1

/// One request to send upstream and the promise its complete response fulfils.
struct UpstreamRequest {
    let head: HTTPRequestHead
    let body: ByteBuffer?
    let promise: EventLoopPromise<NIOHTTPClientResponseFull>
}

/// Sends one request at a time on an upstream connection and completes its promise with the aggregated response,
/// or fails it when the connection breaks first.
final class UpstreamResponseHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOHTTPClientResponseFull
    typealias OutboundIn = UpstreamRequest
    typealias OutboundOut = HTTPClientRequestPart

    private var pending: EventLoopPromise<NIOHTTPClientResponseFull>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        guard pending == nil else {
            request.promise.fail(UpstreamError.connectionBusy)
            promise?.fail(UpstreamError.connectionBusy)
            return
        }
        pending = request.promise
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        if let body = request.body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let response = unwrapInboundIn(data)
        let promise = pending
        pending = nil
        promise?.succeed(response)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(UpstreamError.from(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.connectionClosed)
        context.fireChannelInactive()
    }

    private func fail(_ error: UpstreamError) {
        let promise = pending
        pending = nil
        promise?.fail(error)
    }
}

@available(*, unavailable)
extension UpstreamResponseHandler: Sendable {}
