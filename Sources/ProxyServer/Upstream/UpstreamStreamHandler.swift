import NIOCore
import NIOHTTP1
import NIOTLS

/// What an upstream connection that streams reports to the client session using it.
protocol UpstreamStreamDelegate: AnyObject {
    func upstreamRead(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection is gone (closed, failed, or silent past its idle limit); `error` says why when known.
    func upstreamEnded(_ error: UpstreamError?)
}

/// The last handler of an upstream connection whose bodies stream (resource hosts): passes response parts to the
/// session that holds the connection, and nothing else. Parked in the pool it has no session; anything then read
/// is unsolicited and ends the connection.
final class UpstreamStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    /// The session using the connection; cleared when it gives the connection back, so no cycle outlives it.
    var delegate: (any UpstreamStreamDelegate)?
    /// Whether an answer is owed, for the decoder before it (`UpstreamResponseDecoder`).
    let boundary = AnswerBoundary()
    private var ended = false
    /// The answer being read switched protocols: what follows its end is the new protocol's, not an answer.
    private var switching = false
    /// Completed once the TLS handshake is: the connection is handed to a session only then, so that what it sends
    /// goes out when it is sent, not when a slow handshake ends (review 61 F1: a request judged before a policy
    /// change went out after it, buffered in the TLS handler).
    private(set) var handshake: EventLoopPromise<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        handshake = context.eventLoop.makePromise()
    }

    /// A connection that never became active (its connect failed) is torn down without `channelInactive`.
    func handlerRemoved(context: ChannelHandlerContext) {
        handshake?.fail(UpstreamError.connectionClosed)
        handshake = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let delegate else { return context.close(promise: nil) }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let head):
            boundary.headArrived = true
            switching = head.status == .switchingProtocols
        case .body: break
        case .end: if !switching { boundary.awaitsAnswer = false }
        }
        delegate.upstreamRead(part)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshake?.succeed()
            handshake = nil
        }
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        end(.timedOut)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end(UpstreamError.from(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(nil)
        context.fireChannelInactive()
    }

    /// Reported once: a failure, then the close it causes, are one ending.
    private func end(_ error: UpstreamError?) {
        guard !ended else { return }
        ended = true
        handshake?.fail(error ?? .connectionClosed)
        handshake = nil
        let delegate = self.delegate
        self.delegate = nil
        delegate?.upstreamEnded(error)
    }
}

@available(*, unavailable)
extension UpstreamStreamHandler: Sendable {}
