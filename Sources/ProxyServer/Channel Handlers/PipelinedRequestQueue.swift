import NIOCore
import NIOHTTP1

/// Hands a streaming handler one request at a time: the parts (and parse errors) of a request that comes before the
/// answer to the one in progress has ended wait here, in order, and go on once it has.
///
/// NIO's `HTTPServerPipelineHandler` does the same, but it also holds the channel's reads from the end of every
/// request to the end of its answer, and each pause and resume of a socket's reading is an `epoll_ctl` call: two per
/// request on a keep-alive connection (about 2.4 a request in the dp16 bench). Here reading stops only when a request
/// actually waits, so a client that waits for its answers, as nearly all do, never pauses. What waits is bounded by
/// what one read brought: from the first waiting part on, reads are held until the queue is empty again; and one read
/// may bring no more than `SessionStateMachine.maxWaiting` requests that wait, as on an STS's session: more, and the
/// connection ends (review 63 F1: 3,500 minimal requests in one 64 KiB read took 1.2 MiB of parsed heads, counted by
/// no limit).
final class PipelinedRequestQueue: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Waiting {
        case part(HTTPServerRequestPart)
        case parseError(any Error)
        case inputClosed
    }

    /// Where the request being served is: its end read, its answer's end written.
    private var requestEnded = false
    private var answerEnded = false
    /// The request being served is a HEAD: its answer has no body on the wire, whatever its head says of one. NIO's
    /// encoder does not see the request (its pairing with the decoder is internal to NIO), so it framed a HEAD's
    /// answer without a length as chunked, and the last chunk began the next answer (review 46 F2); a body the
    /// proxy's own refusal carries would have done the same.
    private var answeringHead = false
    private var waiting = CircularBuffer<Waiting>(initialCapacity: 0)
    /// Request heads among `waiting`.
    private var waitingRequests = 0
    /// More requests came than may wait: the connection is closing, and what it still brings is dropped.
    private var overflowed = false
    /// A read asked for while requests wait, passed on once none does.
    private var readHeld = false
    /// Whether this handler is in a pipeline: a delivery scheduled before its removal finds it gone.
    private var added = false
    private var deliveryScheduled = false

    /// The request in progress is read to its end and its answer not yet written to its end: what the client sends
    /// now belongs to the next request.
    private var nextMustWait: Bool { requestEnded && !answerEnded }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !overflowed else { return }
        let part = unwrapInboundIn(data)
        guard waiting.isEmpty, !nextMustWait else {
            if case .head = part {
                waitingRequests += 1
                guard waitingRequests <= SessionStateMachine.maxWaiting else {
                    overflowed = true
                    waiting.removeAll()
                    return context.close(promise: nil)
                }
            }
            return waiting.append(.part(part))
        }
        deliver(part, context: context)
    }

    /// A parse error belongs where its bytes were: after the requests before them.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, !waiting.isEmpty || nextMustWait else { return context.fireErrorCaught(error) }
        waiting.append(.parseError(error))
    }

    /// The client's half-close comes after the requests it sent before it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event, !waiting.isEmpty else {
            return context.fireUserInboundEventTriggered(event)
        }
        waiting.append(.inputClosed)
    }

    func read(context: ChannelHandlerContext) {
        if waiting.isEmpty { context.read() } else { readHeld = true }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ends: Bool
        switch unwrapOutboundIn(data) {
        case .head:
            ends = false
            context.write(data, promise: promise)
        case .body, .end:
            if case .end = unwrapOutboundIn(data) { ends = true } else { ends = false }
            // A HEAD's answer is its head alone on the wire.
            if answeringHead { promise?.succeed() } else { context.write(data, promise: promise) }
        }
        guard ends else { return }
        // The mark ends with the HEAD's own answer: a parse error's answer after it has no request head to reset it
        // (review 48 F1: a 400 after a HEAD lost its body).
        answeringHead = false
        // An answer may end before its request (a refusal while the body still comes): the rest of the request
        // then passes, and so does the next one.
        answerEnded = true
        if !waiting.isEmpty { scheduleDelivery(context: context) }
    }

    /// A closed connection's waiting requests are dropped: nobody is there for their answers.
    func channelInactive(context: ChannelHandlerContext) {
        waiting.removeAll()
        waitingRequests = 0
        readHeld = false
        context.fireChannelInactive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        added = true
    }

    /// On removal (a WebSocket's splice), what waits goes on to the handlers that stay, and a held read is let go.
    func handlerRemoved(context: ChannelHandlerContext) {
        added = false
        while let next = waiting.popFirst() { fire(next, context: context) }
        if readHeld {
            readHeld = false
            context.read()
        }
    }

    private func deliver(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            requestEnded = false
            answerEnded = false
            answeringHead = head.method == .HEAD
        case .body:
            break
        case .end:
            requestEnded = true
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    private func fire(_ waiting: Waiting, context: ChannelHandlerContext) {
        switch waiting {
        case .part(let part):
            if case .head = part { waitingRequests -= 1 }
            deliver(part, context: context)
        case .parseError(let error): context.fireErrorCaught(error)
        case .inputClosed: context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        }
    }

    /// The next request goes on from the next tick of the loop, not inside the write of the answer before it: the
    /// handler that wrote that answer is still finishing its request (whether its upstream connection may serve
    /// another, its deadline). A request begun inside that would find the connection marked reusable while its own
    /// answer was still coming, and a client that left then would hand the pool a connection whose next answer is
    /// not its next user's.
    private func scheduleDelivery(context: ChannelHandlerContext) {
        guard !deliveryScheduled else { return }
        deliveryScheduled = true
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (queue, context) = bound.value
            queue.deliveryScheduled = false
            if queue.added { queue.deliverWaiting(context: context) }
        }
    }

    /// Hands on what waits while the next request may go, as one read (the handlers after flush at its end), then
    /// lets a held read go once nothing waits.
    private func deliverWaiting(context: ChannelHandlerContext) {
        var delivered = false
        while !nextMustWait, let next = waiting.popFirst() {
            fire(next, context: context)
            delivered = true
        }
        if delivered { context.fireChannelReadComplete() }
        if waiting.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
    }
}
