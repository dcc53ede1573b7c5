import NIOCore

/// Sits below an upstream connection's response decoder: bytes that arrive while no request is outstanding were
/// asked for by nobody, and the connection closes before the decoder keeps them, since they would be read as the
/// start of the next request's answer. (TLS's own records, such as late session tickets, never reach this far.)
final class UnsolicitedBytesGuard: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let exchanger: UpstreamResponseHandler

    init(exchanger: UpstreamResponseHandler) {
        self.exchanger = exchanger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard exchanger.awaitsResponse else { return context.close(promise: nil) }
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension UnsolicitedBytesGuard: Sendable {}
