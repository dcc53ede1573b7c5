import NIOCore

/// Holds what a client sends after its CONNECT (a TLS ClientHello, tunnel bytes) until the next stage is in place.
///
/// It takes the place of the HTTP decoder when parsing stops: the bytes the decoder still held, and every later
/// read, land here and never in `ProxyRequestHandler`, which speaks HTTP parts only. (Raw bytes reaching it once
/// crashed the process: they were unwrapped as a request part after a refused maker token.) The next stage takes
/// the held reads in order (`takeHeld`) and replaces this handler.
final class RawBytesHold: ChannelInboundHandler, RemovableChannelHandler {
    /// Whatever arrives is kept as it came: it is never unwrapped here.
    typealias InboundIn = NIOAny

    /// Reads kept at most (each one socket read, at most NIO's largest read buffer); beyond, the client is sending
    /// far more than a ClientHello before the proxy answered, and the connection closes.
    static let maxReads = 16

    private var held: [NIOAny] = []
    /// Whether the client's FIN came while bytes were held: the next stage gets it after them. It reaches nothing
    /// else here (a tunnel's dial may still be under way), and was lost when it came then, under load (review of a
    /// fresh-clone run: both ends waited for the idle timeout).
    private(set) var sawInputClosed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard held.count < Self.maxReads else {
            held.removeAll()
            return context.close(promise: nil)
        }
        held.append(data)
    }

    /// Nothing is delivered yet, so there is nothing to complete downstream.
    func channelReadComplete(context: ChannelHandlerContext) {}

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            sawInputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        held.removeAll()
    }

    /// The reads held so far, in order; the hold is empty afterwards.
    func takeHeld() -> [NIOAny] {
        defer { held.removeAll() }
        return held
    }
}

@available(*, unavailable)
extension RawBytesHold: Sendable {}
