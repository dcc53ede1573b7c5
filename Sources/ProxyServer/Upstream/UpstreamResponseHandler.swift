import NIOCore
import NIOHTTP1
import NIOTLS
import NetworkPolicy

/// Sends one request at a time on an upstream connection and reports its whole response, or the failure when the
/// connection breaks, the response outgrows the inspection limit or does not arrive in time.
///
/// Called directly by the pool on the connection's own loop (see `UpstreamConnectionPool`), so a request needs no
/// trip down the pipeline from its tail and no promise. The response is gathered here (`HTTPMessageGatherer`).
///
/// A whole response is reported when the read that completed it is over (`channelReadComplete`), not in the middle
/// of it: a server that answers twice, or sends bytes nobody asked for, has its extra bytes seen first (here, or by
/// `UpstreamResponseDecoder`), and the connection closes instead of going back to the pool, where those bytes would
/// be taken for the answer to the next request.
final class UpstreamResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    typealias Completion = UpstreamConnectionPool.Completion

    private var incoming: HTTPMessageGatherer<HTTPResponseHead>
    /// The response body's share of the proxy's body memory, charged to the client that asked (as its request
    /// bodies are), given back once the response is reported.
    private var reservation: BodyReservation
    private let bodyBudget: BodyMemoryBudget
    private var context: ChannelHandlerContext?
    private var pending: Completion?
    /// The response that completed during the current read, reported at its end.
    private var completed: NIOHTTPClientResponseFull?

    /// Whether an answer is owed, for the decoder before it (`UpstreamResponseDecoder`).
    let boundary = AnswerBoundary()
    private var deadline: NIOScheduledCallback?
    /// The TLS handshake's deadline, until `handshakeCompleted` (TLS connections only).
    private let handshakeTimeout: TimeAmount?
    private var handshakeDeadline: NIOScheduledCallback?

    /// - Parameter handshakeTimeout: for TLS connections, the time the handshake may take (then 504).
    init(maxBodyBytes: Int, bodyBudget: BodyMemoryBudget, handshakeTimeout: TimeAmount? = nil) {
        incoming = HTTPMessageGatherer(limit: maxBodyBytes)
        reservation = BodyReservation(budget: bodyBudget)
        self.bodyBudget = bodyBudget
        self.handshakeTimeout = handshakeTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let handshakeTimeout {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            handshakeDeadline = try? context.eventLoop.scheduleCallback(
                in: handshakeTimeout,
                handler: HandshakeDeadline(handler: loopBound)
            )
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeDeadline?.cancel()
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            handshakeDeadline?.cancel()
            handshakeDeadline = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    fileprivate func handshakeTimedOut() {
        guard handshakeDeadline != nil else { return }
        handshakeDeadline = nil
        finish(.failure(.handshakeTimedOut))
        context?.close(promise: nil)
    }

    /// Writes the request of `client`; `completion` runs once, with the response or why there is none.
    func send(
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        for client: IPAddress,
        timeout: TimeAmount,
        completion: @escaping Completion
    ) {
        guard let context, context.channel.isActive else { return completion(.failure(.notSent)) }
        guard pending == nil else { return completion(.failure(.connectionBusy)) }
        // Else one client's plain requests to a server that stalls a byte short held the whole budget, charged to
        // nobody, and every other client's exchange got 503.
        reservation = BodyReservation(budget: bodyBudget, client: client)
        do {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            deadline = try context.eventLoop.scheduleCallback(
                in: timeout,
                handler: ResponseDeadline(handler: loopBound)
            )
        } catch {
            return completion(.failure(.connectionClosed))
        }
        pending = completion
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard pending != nil, completed == nil else {
            // Nobody asked: the connection's framing can no longer be trusted.
            return context.close(promise: nil)
        }
        let part = unwrapInboundIn(data)
        if case .head = part { boundary.headArrived = true }
        // A request that goes whole asked for no protocol switch: after a 101 the decoder reads no more answers.
        if case .head(let head) = part, head.status == .switchingProtocols {
            finish(
                .failure(
                    UpstreamError(code: .malformedResponse, detail: "the upstream server switched protocols unasked")
                )
            )
            return context.close(promise: nil)
        }
        if case .body(let chunk) = part, !reservation.take(chunk.readableBytes) {
            finish(.failure(.overloaded))
            return context.close(promise: nil)
        }
        switch incoming.receive(part) {
        case .incomplete:
            break
        case .complete(let head, let body):
            boundary.awaitsAnswer = false
            completed = NIOHTTPClientResponseFull(head: head, body: body)
        case .tooLarge:
            // The connection cannot be reused mid-response, so it is closed.
            finish(.failure(.responseTooLarge))
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if let completed { finish(.success(completed)) }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let completed else {
            // Reported before the close, so that the failure names its cause (an untrusted certificate, say).
            finish(.failure(UpstreamError.from(error)))
            return context.close(promise: nil)
        }
        // An answer already whole stands, but only once the connection is closed (an unsolicited response is an
        // error here), so that nothing is sent on it in the meantime.
        context.close(promise: nil)
        finish(.success(completed))
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(completed.map { .success($0) } ?? .failure(.connectionClosed))
        context.fireChannelInactive()
    }

    fileprivate func timedOut() {
        deadline = nil
        finish(.failure(.timedOut))
        context?.close(promise: nil)
    }

    private func finish(_ result: Result<NIOHTTPClientResponseFull, UpstreamError>) {
        incoming.reset()
        // The body now belongs to the exchange, which answers with it at once: the budget bounds what is gathered.
        reservation.releaseAll()
        completed = nil
        deadline?.cancel()
        deadline = nil
        let completion = pending
        pending = nil
        completion?(result)
    }
}

@available(*, unavailable)
extension UpstreamResponseHandler: Sendable {}

/// Fires when an upstream response is late; cheaper than `scheduleTask`, which allocates a promise each time.
private struct ResponseDeadline: NIOScheduledCallbackHandler, Sendable {
    let handler: NIOLoopBound<UpstreamResponseHandler>

    func handleScheduledCallback(eventLoop: some EventLoop) {
        handler.value.timedOut()
    }
}

/// Fires when the upstream TLS handshake is late.
private struct HandshakeDeadline: NIOScheduledCallbackHandler, Sendable {
    let handler: NIOLoopBound<UpstreamResponseHandler>

    func handleScheduledCallback(eventLoop: some EventLoop) {
        handler.value.handshakeTimedOut()
    }
}
