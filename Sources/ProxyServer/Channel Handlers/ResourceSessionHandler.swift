import Audit
import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import PolicyService

/// Serves the decrypted requests of an intercepted session on a resource host (SPEC 4.2) without holding bodies
/// (STYLE 4, step 4): I/O only. It feeds what happens on the client's connection and on the upstream one to a
/// `ResourceStreamStateMachine`, with the time and fresh IDs it may need, and carries out what it returns.
///
/// Backpressure is its own business: each side reads only while the other can take what it writes. Requests come
/// one at a time from the `PipelinedRequestQueue` before it, so pipelined requests wait for their turn.
final class ResourceSessionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine: ResourceStreamStateMachine
    private let deadline: RequestDeadlineHandler
    private let shared: ProxyContext
    private var context: ChannelHandlerContext?
    private var upstream: UpstreamConnectionPool.StreamConnection? {
        didSet { upstreamReading = nil }
    }
    /// Whether `upstream` reads, as this handler last set it (nil: not set since it was taken).
    private var upstreamReading: Bool?
    /// Bodies held while a request is judged or connected, given back once they are sent or dropped.
    private var reservation: BodyReservation
    /// Whether the client's connection reads; changed only when it must be (each change may cost a system call).
    private var clientReading = true
    /// Inside a read of the client's: what is written upstream is flushed once the read completes.
    private var inClientRead = false
    /// Whether `upstream` finished its last exchange cleanly and may serve another request (or the pool).
    private var upstreamReusable = false
    /// Body bytes of one read, written on as one part (`BodyCoalescing`) each way.
    private var upload = BodyCoalescing()
    private var download = BodyCoalescing()

    init(session: InterceptedSession, deadline: RequestDeadlineHandler, shared: ProxyContext) {
        self.deadline = deadline
        self.shared = shared
        self.reservation = BodyReservation(budget: shared.bodyBudget, client: session.client)
        let policies = shared.policies
        self.machine = ResourceStreamStateMachine(session: session, currentDecider: { policies.current().decider })
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
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A form is held whole before it is judged: the head's deadline runs on to its end.
            if !StreamedRequestHead.carriesForm(head) { deadline.headReceived() }
            run(machine.requestHead(head, at: .now()))
        case .body(let chunk):
            if machine.holdsBody, !reservation.take(chunk.readableBytes) {
                return run(machine.overloaded(at: .now()))
            }
            run(machine.requestBody(chunk, at: .now()))
        case .end:
            deadline.headReceived()
            run(machine.requestEnd(at: .now()))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        inClientRead = false
        if let channel = upstream?.channel {
            writeUpload(to: channel)
            if machine.isStreaming { channel.flush() }
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if machine.isStreaming { setUpstreamReading(context.channel.isWritable) }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent: run(machine.idleTimeoutFired())
        case ChannelEvent.inputClosed: run(machine.inputClosed())
        default: context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else { return context.close(promise: nil) }
        let (status, message) = ClientProtocolError.classify(error)
        run(machine.malformedRequest(status: status, message, at: .now()))
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine.channelClosed()
        reservation.releaseAll()
        if let upstream, upstreamReusable {
            shared.upstreamPools.value(for: context.eventLoop).releaseStream(upstream)
        } else {
            upstream?.handler.delegate = nil
            upstream?.channel.close(promise: nil)
        }
        upstream = nil
        context.fireChannelInactive()
    }

    // MARK: - Actions

    private func run(_ action: ResourceStreamStateMachine.Action) {
        guard let context else { return }
        switch action {
        case .none:
            break
        case .count(let count, let then):
            shared.metrics.countResourceRequest(count)
            run(then)
        case .recordAudit(let event, let then):
            shared.recordAudit(event, client: machine.session.client, on: context.eventLoop) {
                if case .failure = $0 { context.close(promise: nil) }
            }
            run(then)
        case .writeAudit(let event):
            // The line is written elsewhere: until it is, what the client sends waits in the socket.
            setClientReading(false)
            shared.recordAudit(event, client: machine.session.client, on: context.eventLoop) { result in
                switch result {
                case .success: self.run(self.machine.auditWritten())
                case .failure:
                    self.run(self.machine.auditFailed(correlationID: event.correlationID, at: EventStamp.now()))
                }
            }
        case .openUpstream:
            openUpstream(context: context)
        case .startUpstream(let parts, let sendContinue):
            startUpstream(parts, sendContinue: sendContinue, context: context)
        case .sendContinue:
            context.writeAndFlush(wrapOutboundOut(HTTPResponseWriting.continueHead), promise: nil)
        case .sendUpstream(let part):
            guard let channel = upstream?.channel else { return }
            if case .body(.byteBuffer(let chunk)) = part, inClientRead {
                if upload.add(chunk) { writeUpload(to: channel) }
                return
            }
            writeUpload(to: channel)
            channel.write(part, promise: nil)
            if !channel.isWritable { setClientReading(false) }
        case .respond(let part):
            if case .body(.byteBuffer(let chunk)) = part {
                if download.add(chunk) { writeDownload(context: context) }
                return
            }
            writeDownload(context: context)
            context.write(wrapOutboundOut(part), promise: nil)
            if case .head(let head) = part, head.status == .switchingProtocols { context.flush() }
            if !context.channel.isWritable { setUpstreamReading(false) }
        case .finishResponse(let trailers, let keepUpstream, let close):
            writeDownload(context: context)
            // Flushed now: the connection may go back to the pool, and its read's end is then not reported here.
            let written = context.writeAndFlush(wrapOutboundOut(.end(trailers)))
            deadline.answered()
            reservation.releaseAll()
            // The session keeps a connection fit for another request; the pool gets it when the client goes.
            upstreamReusable = keepUpstream
            if !keepUpstream {
                upstream?.handler.delegate = nil
                upstream?.channel.close(promise: nil)
                upstream = nil
            }
            if close {
                written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            } else {
                setClientReading(true)
            }
        case .answer(let answer, let close):
            write(answer, close: close, context: context)
        case .replaceAnswer(let answer, let close):
            upstreamReusable = false
            upstream?.handler.delegate = nil
            upstream?.channel.close(promise: nil)
            upstream = nil
            write(answer, close: close, context: context)
        case .splice:
            splice(context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    /// The session's own connection when it is still fit (the common case: no pool, no pause), else one kept in
    /// the loop's pool, else a new one, with the client's reading paused while it is made.
    private func openUpstream(context: ChannelHandlerContext) {
        upstreamReusable = false
        if let upstream, upstream.channel.isActive {
            return connected(upstream, reused: true)
        }
        upstream = nil
        let pool = shared.upstreamPools.value(for: context.eventLoop)
        let target = machine.session.target
        if let kept = pool.idleStream(host: target.host, port: target.port) {
            return connected(kept, reused: true)
        }
        setClientReading(false)
        pool.newStream(host: target.host, port: target.port, for: machine.session.client)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let connection):
                    guard self.context != nil else { return connection.channel.close(promise: nil) }
                    self.connectedOnceHandshaken(connection)
                case .failure(let error):
                    self.shared.metrics.upstreamErrors.increment()
                    self.run(self.machine.upstreamEnded(UpstreamError.from(error), at: .now()))
                }
            }
    }

    /// A new connection is the session's once its TLS handshake is done: what it sends goes out when it is sent, not
    /// when a slow handshake ends (review 61 F1: a request judged before a policy change went out after it, held in
    /// the TLS handler), and a change meanwhile is seen before anything goes.
    private func connectedOnceHandshaken(_ connection: UpstreamConnectionPool.StreamConnection) {
        guard let handshake = connection.handler.handshake else { return connected(connection, reused: false) }
        handshake.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                guard self.context != nil else { return connection.channel.close(promise: nil) }
                self.connected(connection, reused: false)
            case .failure(let error):
                connection.channel.close(promise: nil)
                self.shared.metrics.upstreamErrors.increment()
                self.run(self.machine.upstreamEnded(UpstreamError.from(error), at: .now()))
            }
        }
    }

    private func connected(_ connection: UpstreamConnectionPool.StreamConnection, reused: Bool) {
        upstream = connection
        connection.handler.delegate = self
        run(machine.upstreamConnected(reused: reused, at: .now()))
    }

    private func startUpstream(
        _ parts: [HTTPClientRequestPart],
        sendContinue: Bool,
        context: ChannelHandlerContext
    ) {
        guard let connection = upstream else { return }
        setUpstreamReading(context.channel.isWritable)
        for part in parts { connection.channel.write(part, promise: nil) }
        // Within a read of the client's the rest of the request may follow at once: one flush when it completes.
        if !inClientRead { connection.channel.flush() }
        // A form kept to be judged again stays counted while it is kept.
        reservation.release(reservation.held - machine.keptFormBytes)
        if sendContinue { context.writeAndFlush(wrapOutboundOut(HTTPResponseWriting.continueHead), promise: nil) }
        setClientReading(connection.channel.isWritable)
    }

    /// Writes the proxy's own answer; the connection closes after it when `close`, else reads the next request.
    private func write(_ answer: SessionAnswer, close: Bool, context: ChannelHandlerContext) {
        reservation.releaseAll()
        if let started = answer.exchangeStarted {
            shared.metrics.exchangeLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
        let written = HTTPResponseWriting.write(
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            keepAlive: !close,
            context: context,
            wrap: wrapOutboundOut
        )
        deadline.answered()
        if close {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            setClientReading(true)
        }
    }

    /// The upload bytes gathered in this read, as one body part.
    private func writeUpload(to channel: any Channel) {
        guard let chunk = upload.take() else { return }
        channel.write(HTTPClientRequestPart.body(.byteBuffer(chunk)), promise: nil)
        if !channel.isWritable { setClientReading(false) }
    }

    /// The download bytes gathered in this read of the upstream's, as one body part.
    private func writeDownload(context: ChannelHandlerContext) {
        guard let chunk = download.take() else { return }
        context.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
        if !context.channel.isWritable { setUpstreamReading(false) }
    }

    /// Changed only when it must be: a channel option set costs dynamic casts, and each change a system call.
    private func setUpstreamReading(_ reading: Bool) {
        guard let upstream, reading != upstreamReading else { return }
        upstreamReading = reading
        upstream.channel.setAutoRead(reading)
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
        switch part {
        case .head(let head): run(machine.responseHead(head, at: .now()))
        case .body(let chunk): run(machine.responseBody(chunk, at: .now()))
        case .end(let trailers): run(machine.responseEnd(trailers))
        }
    }

    func upstreamReadComplete() {
        guard let context else { return }
        writeDownload(context: context)
        context.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if machine.sendsRequestBody { setClientReading(isWritable) }
    }

    func upstreamEnded(_ error: UpstreamError?) {
        upstream = nil
        upstreamReusable = false
        // A kept connection timing out between requests is no failure.
        if error != nil, machine.isStreaming { shared.metrics.upstreamErrors.increment() }
        run(machine.upstreamEnded(error, at: .now()))
    }

    /// The upstream switched protocols and its 101 went to the client: both connections lose their HTTP handlers
    /// and carry bytes, as a blind tunnel does.
    private func splice(context: ChannelHandlerContext) {
        guard let upstream, let upgrade = machine.splicedUpgrade else { return context.close(promise: nil) }
        self.upstream = nil
        upstream.handler.delegate = nil
        let watch = SpliceWatch(
            upgrade: upgrade,
            session: machine.session,
            shared: shared,
            client: context.channel,
            upstream: upstream.channel
        )
        guard watch.start() else { return }
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
                context: upstreamSync.context(handlerType: ByteToMessageHandler<UpstreamResponseDecoder>.self),
                promise: nil
            )
            try upstreamSync.removeHandler(
                context: upstreamSync.context(handlerType: HTTPRequestEncoder.self),
                promise: nil
            )
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: PipelinedRequestQueue.self),
                promise: nil
            )
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: HTTPResponseEncoder.self),
                promise: nil
            )
            clientSync.removeHandler(context: context, promise: nil)
            try clientSync.removeHandler(
                context: clientSync.context(handlerType: ByteToMessageHandler<ClientRequestDecoder>.self),
                promise: nil
            )
            upstream.channel.setAutoRead(true)
            context.channel.setAutoRead(true)
            // The decoders' leftovers (a first frame sent with the 101) were handed over outside any read.
            upstream.channel.flush()
            context.channel.flush()
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
