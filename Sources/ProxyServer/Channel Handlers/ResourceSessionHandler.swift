import Audit
import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import PolicyService

/// Serves the decrypted requests of an intercepted session on a resource host (SPEC 4.2) without holding bodies:
/// each request is judged on its head (and on a form body, which may carry `access_token`), then its body and its
/// answer stream between the client and one upstream connection, each side reading only while the other can take
/// what it writes. `Expect: 100-continue` is answered once the request is allowed, so a refused upload is never
/// sent; a WebSocket upgrade is judged on its request, then the two connections are spliced.
///
/// The decisions are `RequestStateMachine`'s (the same code judges every resource request); this handler moves
/// bytes. `HTTPServerPipelineHandler` before it hands it one request at a time, so pipelined requests wait.
final class ResourceSessionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// A request not yet streaming: its head, and what of its body arrived while it was judged or connected.
    private struct Pending {
        let head: HTTPRequestHead
        var parts: [ByteBuffer] = []
        var bytes = 0
        var ended = false
    }

    private struct Exchange {
        let keepAlive: Bool
        let upgrade: Bool
        var requestEnded: Bool
        var responseStarted = false
        /// Whether the upstream's answer lets its connection serve another request.
        var upstreamKeepAlive = false
        /// The upstream answered 101 to the upgrade; the splice follows the end of that answer.
        var switching = false
    }

    /// Allowed transitions: idle → collectingForm | judging; collectingForm → judging | answering; judging →
    /// connecting | answering; connecting → streaming | answering; streaming → idle | spliced | closed;
    /// answering → idle | closed.
    private enum State {
        case idle
        /// A form body is read whole before judging (within `maxBodyBytes`): it may carry the credential.
        case collectingForm(Pending)
        case judging(Pending, RequestStateMachine)
        case connecting(Pending, upstreamHead: HTTPRequestHead)
        case streaming(Exchange)
        /// The proxy's own answer is being written.
        case answering
        case spliced
        case closed
    }

    private let session: InterceptedSession
    private let deadline: RequestDeadlineHandler
    private let shared: ProxyContext
    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var upstream: UpstreamConnectionPool.StreamConnection?
    /// Bodies held while a request is judged or connected, given back once they are sent or dropped.
    private var reservation: BodyReservation
    /// Whether the client's connection reads; changed only when it must be (each change may cost a system call).
    private var clientReading = true
    /// Inside a read of the client's: what is written upstream is flushed once the read completes.
    private var inClientRead = false

    init(session: InterceptedSession, deadline: RequestDeadlineHandler, shared: ProxyContext) {
        self.session = session
        self.deadline = deadline
        self.shared = shared
        self.reservation = BodyReservation(budget: shared.bodyBudget)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: - The client

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inClientRead = true
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            deadline.headReceived()
            let pending = Pending(head: head)
            if StreamedRequestHead.isForm(head), StreamedRequestHead.hasBody(head) {
                state = .collectingForm(pending)
            } else {
                judge(pending)
            }
        case (.head, _):
            close()
        case (.body(let chunk), .collectingForm(var pending)):
            guard hold(chunk, in: &pending) else { return }
            state = .collectingForm(pending)
        case (.body(let chunk), .judging(var pending, let machine)):
            guard hold(chunk, in: &pending) else { return }
            state = .judging(pending, machine)
        case (.body(let chunk), .connecting(var pending, let head)):
            guard hold(chunk, in: &pending) else { return }
            state = .connecting(pending, upstreamHead: head)
        case (.body(let chunk), .streaming(let exchange)) where !exchange.requestEnded:
            sendUpstream(.body(.byteBuffer(chunk)))
        case (.end, .collectingForm(var pending)):
            pending.ended = true
            judge(pending)
        case (.end, .judging(var pending, let machine)):
            pending.ended = true
            state = .judging(pending, machine)
        case (.end, .connecting(var pending, let head)):
            pending.ended = true
            state = .connecting(pending, upstreamHead: head)
        case (.end, .streaming(var exchange)) where !exchange.requestEnded:
            exchange.requestEnded = true
            state = .streaming(exchange)
            sendUpstream(.end(nil))
        case (.body, _), (.end, _):
            break  // the body of a request already answered
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inClientRead = false
        if case .streaming = state { upstream?.channel.flush() }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .streaming = state { upstream?.channel.setAutoRead(context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent:
            // The client sent nothing for the idle limit. A download it is reading needs nothing from it; one it
            // stopped reading stalls the upstream connection, whose own silence limit then ends both.
            if case .streaming = state { break }
            close()
        case ChannelEvent.inputClosed:
            if case .idle = state { close() }
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError, case .idle = state else { return close() }
        let (status, message) = ClientProtocolError.classify(error)
        answer(.error(status, "malformed_request", message, stamp: .now(), keepAlive: false), requestRead: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        reservation.releaseAll()
        upstream?.handler.delegate = nil
        upstream?.channel.close(promise: nil)
        upstream = nil
        context.fireChannelInactive()
    }

    /// Keeps a body part that arrived before the request could stream, within the body limits.
    private func hold(_ chunk: ByteBuffer, in pending: inout Pending) -> Bool {
        guard pending.bytes + chunk.readableBytes <= session.maxBodyBytes else {
            let message = "the request body is larger than \(session.maxBodyBytes) bytes"
            answer(
                .error(.payloadTooLarge, "body_too_large", message, stamp: .now(), keepAlive: false),
                requestRead: false
            )
            return false
        }
        guard reservation.take(chunk.readableBytes) else {
            let answer = SessionAnswer.error(
                .serviceUnavailable,
                "overloaded",
                BodyMemoryBudget.refusal,
                stamp: .now(),
                keepAlive: false
            )
            self.answer(answer, requestRead: false)
            return false
        }
        pending.parts.append(chunk)
        pending.bytes += chunk.readableBytes
        return true
    }

    // MARK: - Judging

    private func judge(_ pending: Pending) {
        var pending = pending
        // A form was read whole: it is judged as one body and sent on as one.
        var formBody: ByteBuffer?
        if StreamedRequestHead.isForm(pending.head), pending.ended {
            var joined = ByteBuffer()
            joined.reserveCapacity(pending.bytes)
            for var part in pending.parts { joined.writeBuffer(&part) }
            formBody = joined
            pending.parts = [joined]
        }
        let policies = shared.policies
        let (machine, action) = RequestStateMachine.start(
            NIOHTTPServerRequestFull(head: pending.head, body: formBody),
            session: session,
            currentDecider: { policies.current().decider },
            at: .now()
        )
        state = .judging(pending, machine)
        run(action)
    }

    private func run(_ action: RequestStateMachine.Action) {
        switch action {
        case .count(let count, let then):
            shared.metrics.countResourceRequest(count)
            run(then)
        case .writeAudit(let event):
            guard let context else { return }
            // The line is written elsewhere: until it is, what the client sends waits in the socket.
            setClientReading(false)
            shared.recordAudit(event, on: context.eventLoop) { result in
                guard case .judging(let pending, var machine) = self.state else { return }
                let next =
                    switch result {
                    case .success: machine.auditWritten()
                    case .failure: machine.auditFailed(correlationID: event.correlationID, at: .now())
                    }
                self.state = .judging(pending, machine)
                if let next { self.run(next) }
            }
        case .forward(let judged, _):
            guard case .judging(let pending, _) = state else { return }
            connect(pending, upstreamHead: StreamedRequestHead.upstream(judged: judged, client: pending.head))
        case .answer(let answer):
            guard case .judging(let pending, _) = state else { return }
            // After an upgrade request the decoder reads no further request: the connection ends with the answer.
            let upgrade = StreamedRequestHead.upgrade(pending.head) != nil
            self.answer(
                answer,
                requestRead: !upgrade && (pending.ended || !StreamedRequestHead.hasBody(pending.head))
            )
        }
    }

    // MARK: - Upstream

    private func connect(_ pending: Pending, upstreamHead: HTTPRequestHead) {
        state = .connecting(pending, upstreamHead: upstreamHead)
        if let upstream, upstream.channel.isActive {
            return startStreaming(on: upstream)
        }
        upstream = nil
        guard let context else { return }
        setClientReading(false)
        shared.upstreamPools.value(for: context.eventLoop)
            .streamConnection(host: session.target.host, port: session.target.port)
            .assumeIsolated()
            .whenComplete { result in
                guard case .connecting = self.state else {
                    if case .success(let connection) = result { connection.channel.close(promise: nil) }
                    return
                }
                switch result {
                case .success(let connection):
                    self.startStreaming(on: connection)
                case .failure(let error):
                    self.upstreamEnded(UpstreamError.from(error))
                }
            }
    }

    private func startStreaming(on connection: UpstreamConnectionPool.StreamConnection) {
        guard case .connecting(let pending, let head) = state, let context else { return }
        upstream = connection
        connection.handler.delegate = self
        connection.channel.setAutoRead(context.channel.isWritable)
        let upgrade = StreamedRequestHead.upgrade(pending.head) != nil
        state = .streaming(
            Exchange(keepAlive: pending.head.isKeepAlive && !upgrade, upgrade: upgrade, requestEnded: pending.ended)
        )
        connection.channel.write(HTTPClientRequestPart.head(head), promise: nil)
        for part in pending.parts {
            connection.channel.write(HTTPClientRequestPart.body(.byteBuffer(part)), promise: nil)
        }
        if pending.ended { connection.channel.write(HTTPClientRequestPart.end(nil), promise: nil) }
        // Within a read of the client's the rest of the request may follow at once: one flush when it completes.
        if !inClientRead { connection.channel.flush() }
        reservation.releaseAll()
        if !pending.ended, StreamedRequestHead.expectsContinue(pending.head) {
            context.writeAndFlush(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))),
                promise: nil
            )
        }
        setClientReading(connection.channel.isWritable)
    }

    private func sendUpstream(_ part: HTTPClientRequestPart) {
        guard let channel = upstream?.channel else { return }
        channel.write(part, promise: nil)
        if !channel.isWritable { setClientReading(false) }
    }

    // MARK: - Answers

    /// Writes the proxy's own answer. A request whose body was not read to its end cannot be followed by another,
    /// so the connection closes after it.
    private func answer(_ answer: SessionAnswer, requestRead: Bool) {
        guard let context else { return }
        state = .answering
        reservation.releaseAll()
        if let started = answer.exchangeStarted {
            shared.metrics.exchangeLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
        let keepAlive = answer.keepAlive && requestRead && !answer.closesConnection
        let written = HTTPResponseWriting.write(
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            keepAlive: keepAlive,
            context: context,
            wrap: wrapOutboundOut
        )
        deadline.answered()
        if keepAlive {
            state = .idle
            setClientReading(true)
        } else {
            written.assumeIsolated().whenComplete { _ in self.close() }
        }
    }

    private func close() {
        state = .closed
        context?.close(promise: nil)
    }

    private func setClientReading(_ reading: Bool) {
        guard reading != clientReading else { return }
        clientReading = reading
        context?.channel.setAutoRead(reading)
    }
}

// MARK: - Upstream events

extension ResourceSessionHandler: UpstreamStreamDelegate {
    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard case .streaming(var exchange) = state, let context else { return }
        switch part {
        case .head(var head):
            exchange.responseStarted = true
            exchange.upstreamKeepAlive = head.isKeepAlive
            state = .streaming(exchange)
            if head.status == .switchingProtocols {
                guard exchange.upgrade else {
                    upstream?.channel.close(promise: nil)
                    return failBeforeAnswer(
                        UpstreamError(
                            code: .malformedResponse,
                            detail: "the upstream server switched protocols unasked"
                        )
                    )
                }
                // The connections are spliced once the decoder has ended this answer: a part it emits after the
                // splice would reach the byte tunnel.
                exchange.switching = true
                state = .streaming(exchange)
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                return
            }
            // The body streams as it comes: its length, when the upstream gave one, is the client's too.
            let length = head.headers.first(name: "content-length")
            head.headers = HTTPResponseWriting.forwardable(head.headers)
            if let length { head.headers.add(name: "content-length", value: length) }
            if !exchange.keepAlive { head.headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
        case .body(let chunk):
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
            if !context.channel.isWritable { upstream?.channel.setAutoRead(false) }
        case .end where exchange.switching:
            splice(context: context)
        case .end(let trailers):
            // Flushed now: the connection may go back to the pool, and its read's end is no longer reported here.
            let written = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
            deadline.answered()
            if exchange.requestEnded, exchange.upstreamKeepAlive, let upstream {
                self.upstream = nil
                shared.upstreamPools.value(for: context.eventLoop).releaseStream(upstream)
            }
            // An upstream that answered before the client finished its body leaves the rest nowhere to go.
            guard exchange.requestEnded, exchange.keepAlive else {
                state = .answering
                written.assumeIsolated().whenComplete { _ in self.close() }
                return
            }
            state = .idle
            setClientReading(true)
        }
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if case .streaming(let exchange) = state, !exchange.requestEnded { setClientReading(isWritable) }
    }

    func upstreamEnded(_ error: UpstreamError?) {
        upstream = nil
        switch state {
        case .connecting:
            failBeforeAnswer(error)
        case .streaming(let exchange) where !exchange.responseStarted:
            failBeforeAnswer(error)
        case .streaming:
            close()  // the answer is half sent: only closing tells the client it is cut short
        case .idle, .collectingForm, .judging, .answering, .spliced, .closed:
            break
        }
    }

    /// No answer came: the client gets the proxy's error answer (502, or 504 when the upstream fell silent).
    private func failBeforeAnswer(_ error: UpstreamError?) {
        shared.metrics.upstreamErrors.increment()
        let failure = error ?? .connectionClosed
        answer(
            .error(failure.httpStatus, "upstream_error", failure.detail, stamp: .now(), keepAlive: false),
            requestRead: false
        )
    }

    /// The upstream switched protocols and its 101 went to the client: both connections lose their HTTP handlers
    /// and carry bytes, as a blind tunnel does.
    private func splice(context: ChannelHandlerContext) {
        guard let upstream else { return close() }
        self.upstream = nil
        state = .spliced
        upstream.handler.delegate = nil
        let (local, remote) = GlueHandler.matchedPair()
        do {
            let upstreamSync = upstream.channel.pipeline.syncOperations
            try upstreamSync.addHandler(remote)
            let clientSync = context.pipeline.syncOperations
            try clientSync.addHandler(local)
            if let idle = try? clientSync.context(handlerType: IdleStateHandler.self) {
                clientSync.removeHandler(context: idle, promise: nil)
            }
            try clientSync.addHandler(
                IdleStateHandler(allTimeout: .seconds(shared.configuration.tunnelIdleTimeoutSeconds)),
                position: .before(local)
            )
            upstreamSync.removeHandler(upstream.handler, promise: nil)
            if let idle = try? upstreamSync.context(handlerType: IdleStateHandler.self) {
                upstreamSync.removeHandler(context: idle, promise: nil)
            }
            try upstreamSync.removeHandler(
                context: upstreamSync.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self),
                promise: nil
            )
            try upstreamSync.removeHandler(
                context: upstreamSync.context(handlerType: HTTPRequestEncoder.self),
                promise: nil
            )
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: HTTPServerPipelineHandler.self),
                promise: nil
            )
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: HTTPResponseEncoder.self),
                promise: nil
            )
            clientSync.removeHandler(context: context, promise: nil)
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self),
                promise: nil
            )
            upstream.channel.setAutoRead(true)
            context.channel.setAutoRead(true)
        } catch {
            upstream.channel.close(promise: nil)
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension ResourceSessionHandler: Sendable {}

extension Channel {
    /// Starts or stops reading, from the channel's own loop.
    fileprivate func setAutoRead(_ reading: Bool) {
        try? syncOptions?.setOption(.autoRead, value: reading)
    }
}
