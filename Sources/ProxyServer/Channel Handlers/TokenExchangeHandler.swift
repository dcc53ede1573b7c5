import Audit
import CoreMetrics
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import Plumbing
import PolicyFiles
import PolicyService
import Synchronization

/// Serves the decrypted requests of one intercepted CONNECT session (STYLE 4, step 4): I/O only. It feeds what
/// happens to a `SessionStateMachine`, with the time and fresh IDs it may need (`EventStamp`), and carries out the
/// one action each event returns.
///
/// Reading is not paused between a request and its answer (NIO's `HTTPServerPipelineHandler` does, which cost two
/// `epoll_ctl` calls per exchange); only a pipelined request that must wait stops it.
final class TokenExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine: SessionStateMachine
    private let target: HostPort
    /// Whose session this is: its answers' bodies are charged to it.
    private let client: IPAddress
    private let deadline: RequestDeadlineHandler
    private let shared: ProxyContext
    /// The request bodies' share of the proxy's body memory, each request's given back once it is answered.
    private var reservation: BodyReservation
    /// Body bytes of the request being read, and of each one read whole and not answered yet, oldest first: an
    /// answer gives back its own request's, not those of requests pipelined behind it.
    private var bodyBytesBeingRead = 0
    private var bodyBytesByRequest = CircularBuffer<Int>()
    /// Whether each request read and not answered yet is a HEAD, oldest first: its answer is its head alone (review
    /// 63 F3: a refusal's body followed the head of a HEAD's answer, and a forwarded one stated no length).
    private var headRequests = CircularBuffer<Bool>()
    /// An answer is written but the client is not taking it: the next request and reading wait until it does.
    private var answerNotTaken = false

    init(
        session: InterceptedSession,
        deadline: RequestDeadlineHandler,
        shared: ProxyContext
    ) {
        self.target = session.target
        self.client = session.client
        self.deadline = deadline
        self.shared = shared
        self.reservation = BodyReservation(budget: shared.bodyBudget, client: session.client)
        let policies = shared.policies
        self.machine = SessionStateMachine(session: session, currentDecider: { policies.current().decider })
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        // The body is held whole before the request is judged: the head's deadline runs on to its end.
        case .end:
            deadline.headReceived()
            bodyBytesByRequest.append(bodyBytesBeingRead)
            bodyBytesBeingRead = 0
        case .body(let chunk) where !reservation.take(chunk.readableBytes):
            return run(
                machine.malformedRequest(status: .serviceUnavailable, BodyMemoryBudget.refusal, at: .now()),
                context: context
            )
        case .body(let chunk): bodyBytesBeingRead += chunk.readableBytes
        case .head(let head): headRequests.append(head.method == .HEAD)
        }
        run(machine.requestPartReceived(part, at: .now()), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent:
            run(machine.idleTimeoutFired(), context: context)
        case ChannelEvent.inputClosed:
            run(machine.inputClosed(), context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Only a malformed request gets an answer; TLS and socket failures just end the session.
        guard error is HTTPParserError else { return context.close(promise: nil) }
        let (status, message) = ClientProtocolError.classify(error)
        run(machine.malformedRequest(status: status, message, at: .now()), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reservation.releaseAll()
        machine.channelClosed()
        context.fireChannelInactive()
    }

    private func run(_ action: SessionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .forward(let head, let body):
            forward(head, body: body, context: context)
        case .writeAudit(let event):
            shared.recordAudit(event, client: client, on: context.eventLoop) { result in
                switch result {
                case .success: self.run(self.machine.auditWritten(), context: context)
                case .failure:
                    let action = self.machine.auditFailed(correlationID: event.correlationID, at: .now())
                    self.run(action, context: context)
                }
            }
        case .answer(let answer):
            write(answer, context: context)
        case .sendContinue:
            context.writeAndFlush(wrapOutboundOut(HTTPResponseWriting.continueHead), promise: nil)
        case .stopReading:
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        case .count(let count, let then):
            shared.metrics.countResourceRequest(count)
            run(then, context: context)
        case .resumeReading(let then):
            try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            run(then, context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    /// One request to the session's host through this loop's pool; a gzip or deflate answer comes back decoded
    /// (what is judged is what the client gets, see `ResponseCoding`).
    private func forward(_ head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        let limit = shared.configuration.maxBodyBytes
        let auditBatch = shared.auditBatches.value(for: context.eventLoop)
        auditBatch.exchangeSentUpstream()
        let shared = self.shared
        shared.exchangesUnderWay.add(1, ordering: .relaxed)
        shared.upstreamPools.value(for: context.eventLoop).exchange(
            head,
            body: body,
            for: client,
            host: target.host,
            port: target.port,
            tls: true
        ) { result in
            auditBatch.exchangeAnswered()
            // Counted off once its line is handed to the loop's batch.
            defer { shared.exchangesUnderWay.subtract(1, ordering: .relaxed) }
            switch result.flatMap({ ResponseCoding.decoded($0, limit: limit) }) {
            case .success(let response):
                self.run(self.machine.upstreamResponded(response, at: .now()), context: context)
            case .failure(let failure):
                self.shared.metrics.upstreamErrors.increment()
                self.run(self.machine.upstreamFailed(failure, at: .now()), context: context)
            }
        }
    }

    private func write(_ answer: SessionAnswer, context: ChannelHandlerContext) {
        if let started = answer.exchangeStarted {
            shared.metrics.exchangeLatency.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
        deadline.answered()
        // An answer that closes the connection gives everything back when it closes.
        reservation.release(bodyBytesByRequest.popFirst() ?? 0)
        let written = HTTPResponseWriting.write(
            status: answer.status,
            headers: answer.headers,
            body: answer.body,
            keepAlive: answer.keepAlive,
            headLength: answer.upstreamLength,
            answersHead: headRequests.popFirst() ?? false,
            context: context,
            wrap: wrapOutboundOut
        )
        if answer.closesConnection {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else if context.channel.isWritable {
            run(machine.answerSent(at: .now()), context: context)
        } else {
            // A client that pipelines and never reads would otherwise have answer after answer kept in memory.
            answerNotTaken = true
            try? context.channel.syncOptions?.setOption(.autoRead, value: false)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if answerNotTaken, context.channel.isWritable {
            answerNotTaken = false
            run(machine.answerSent(at: .now()), context: context)
            // Requests still waiting keep reading paused until their turn (the machine resumes it), as does an
            // answer the next request got at once and the client has not taken either.
            if !answerNotTaken, !machine.holdsWaitingRequests {
                try? context.channel.syncOptions?.setOption(.autoRead, value: true)
            }
        }
        context.fireChannelWritabilityChanged()
    }
}

@available(*, unavailable)
extension TokenExchangeHandler: Sendable {}

extension EventStamp {
    /// This moment, with fresh IDs (`UUID.random` is a counter and a mixer: cheap enough for every event).
    static func now() -> EventStamp {
        EventStamp(now: .now(), date: Date(), correlationID: .random(), traceID: .random())
    }
}
