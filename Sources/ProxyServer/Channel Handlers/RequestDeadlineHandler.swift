import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS

/// Deadlines a client cannot stretch by sending "one byte every now and then" (HAProxy's `timeout http-request`,
/// Squid's `request_timeout`, Envoy's `request_headers_timeout`): sits in front of an HTTP request decoder and
///
/// - gives a TLS handshake `handshake` to complete (intercepted sessions: placed after `NIOSSLServerHandler`);
/// - once the first byte of a request head arrives, gives the whole head `head` to arrive, then answers 408 and
///   closes. A request whose body is held whole before it is judged (a token request, a form on a resource host)
///   is given the same time for its body (HAProxy's `timeout http-request` with `http-buffer-request`): else a
///   body left a byte short held its share of the body memory for as long as the connection's idle timer let it.
///   Idle time between requests is not its business (the connection's idle timer is).
///
/// The handler after the decoder, made with it, says when a head is complete (`headReceived()`) and when its answer
/// is sent (`answered()`): the decoder's output is not visible from here. Calls, not pipeline events, so that no
/// write of an ordinary exchange passes through this handler.
final class RequestDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Allowed transitions: handshaking → waiting; waiting → receivingHead → inRequest → waiting; any → expired.
    private enum State {
        case handshaking
        case waiting
        case receivingHead(until: NIODeadline)
        case inRequest
        case expired
    }

    private let head: TimeAmount
    private let handshake: TimeAmount?
    private var state: State
    /// The one timer: the handshake's, or the heads'. A head's deadline does not schedule one of its own: the timer
    /// is left running when a head arrives in time, and when it fires it looks at the head being received then and
    /// waits on for that one's deadline. Scheduling and cancelling a timer for every request cost about 1% of an
    /// exchange's CPU.
    private var timer: NIOScheduledCallback?

    /// - Parameter handshake: nil when there is no TLS handshake to wait for (plain HTTP in front of the proxy).
    init(head: TimeAmount, handshake: TimeAmount? = nil) {
        self.head = head
        self.handshake = handshake
        self.state = handshake == nil ? .waiting : .handshaking
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard case .handshaking = state, let handshake else { return }
        timer = schedule(at: context.eventLoop.now + handshake, context: context, reason: .handshake)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .waiting = state {
            let deadline = context.eventLoop.now + head
            state = .receivingHead(until: deadline)
            // A timer still running fires before this deadline: it was set for an earlier head's.
            if timer == nil { timer = schedule(at: deadline, context: context, reason: .head) }
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, case .handshaking = state {
            timer?.cancel()
            timer = nil
            state = .waiting
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A request head is complete, or, for a body held before judging, the whole request: its deadline is met.
    func headReceived() {
        switch state {
        case .receivingHead, .waiting:
            state = .inRequest
        case .handshaking, .inRequest, .expired:
            break
        }
    }

    /// The request was answered: the next head's first byte starts a new deadline.
    func answered() {
        switch state {
        case .inRequest, .receivingHead:
            state = .waiting
        case .handshaking, .waiting, .expired:
            break
        }
    }

    fileprivate enum Reason {
        case handshake
        case head
    }

    fileprivate func expired(_ reason: Reason, context: ChannelHandlerContext) {
        timer = nil
        switch (reason, state) {
        case (.handshake, .handshaking):
            state = .expired
            context.close(promise: nil)
        case (.head, .receivingHead(let deadline)) where deadline > context.eventLoop.now:
            // Set for an earlier head, which arrived in time: this one's deadline is later.
            timer = schedule(at: deadline, context: context, reason: .head)
        case (.head, .receivingHead):
            state = .expired
            // Written below the response encoder (and above TLS when intercepting): the exchange handler may be
            // mid-message, so this answer is the connection's last.
            let answer = ProxyAnswer.error(
                .requestTimeout,
                "request_timeout",
                "the request did not arrive in time"
            )
            let bytes = answer.serialized(allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case (.handshake, _), (.head, _):
            break
        }
    }

    private func schedule(
        at deadline: NIODeadline,
        context: ChannelHandlerContext,
        reason: Reason
    ) -> NIOScheduledCallback? {
        let handler = DeadlineCallback(
            handler: NIOLoopBound(self, eventLoop: context.eventLoop),
            context: NIOLoopBound(context, eventLoop: context.eventLoop),
            reason: reason
        )
        return try? context.eventLoop.scheduleCallback(at: deadline, handler: handler)
    }

    private struct DeadlineCallback: NIOScheduledCallbackHandler, Sendable {
        let handler: NIOLoopBound<RequestDeadlineHandler>
        let context: NIOLoopBound<ChannelHandlerContext>
        let reason: Reason

        func handleScheduledCallback(eventLoop: some EventLoop) {
            handler.value.expired(reason, context: context.value)
        }
    }
}

@available(*, unavailable)
extension RequestDeadlineHandler: Sendable {}
