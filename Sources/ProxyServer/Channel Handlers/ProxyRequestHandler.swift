import CoreMetrics
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import Plumbing

/// The first handler of every client connection (STYLE 4, steps 1 to 4): I/O only. It feeds what happens to a
/// `ConnectStateMachine` and carries out the one action each event returns: finding the creator, judging a
/// tunnel's destination, handing an accepted CONNECT over, forwarding a plain `http://` request, refusing.
final class ProxyRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var machine: ConnectStateMachine
    /// What the client sent after its CONNECT (a TLS ClientHello, tunnel data), for the next stage.
    private var hold: RawBytesHold?
    /// The host of the plain request upstream, for its refusal's audit line.
    private var plainHost = ""
    /// Its upstream connect, ended if the client hangs up before it is made.
    private var plainConnect: PendingConnect?
    private let shared: ProxyContext
    private let deadline: RequestDeadlineHandler
    /// The client: the connection's peer, or the client a trusted balancer's PROXY protocol header named.
    private let clientAddress: IPAddress
    /// A plain request body's share of the proxy's body memory, given back once answered, then its answer's, given
    /// back once written.
    private var reservation: BodyReservation

    /// - Parameters:
    ///   - deadline: the request-head deadline in front of this connection's decoder;
    ///   - clientAddress: the client `ClientAdmission` admitted.
    init(shared: ProxyContext, deadline: RequestDeadlineHandler, clientAddress: IPAddress) {
        self.shared = shared
        self.deadline = deadline
        self.clientAddress = clientAddress
        self.reservation = BodyReservation(budget: shared.bodyBudget, client: clientAddress)
        self.machine = ConnectStateMachine(
            configuration: .init(
                interception: shared.interception,
                maxBodyBytes: shared.configuration.maxBodyBytes,
                allowedPlainPorts: shared.configuration.allowedPlainHTTPPorts
            )
        )
    }

    /// Only the decoder's HTTP parts arrive here: once a CONNECT ends, a `RawBytesHold` takes the raw bytes.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // A body is held whole before the request goes on: the head's deadline runs on to its end.
            if !StreamedRequestHead.hasBody(head) { deadline.headReceived() }
            run(machine.headReceived(head, clientAddress: clientAddress), context: context)
        case .body(let chunk):
            guard reservation.take(chunk.readableBytes) else {
                return run(
                    machine.malformedRequest(status: .serviceUnavailable, BodyMemoryBudget.refusal),
                    context: context
                )
            }
            run(machine.bodyReceived(chunk), context: context)
        case .end:
            deadline.headReceived()
            run(machine.endReceived(), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let (status, message) = ClientProtocolError.classify(error)
        run(machine.malformedRequest(status: status, message), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is IdleStateHandler.IdleStateEvent:
            run(machine.idleTimeoutFired(), context: context)
        case ChannelEvent.inputClosed:
            run(machine.inputClosed(), context: context)
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        reservation.releaseAll()
    }

    func channelInactive(context: ChannelHandlerContext) {
        plainConnect?.abandon()
        reservation.releaseAll()
        machine.channelClosed()
        context.fireChannelInactive()
    }

    private func run(_ action: ConnectStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .resolveCreator(let proxyAuthorization, let clientAddress):
            resolveCreator(proxyAuthorization, clientAddress: clientAddress, context: context)
        case .stopParsing:
            stopParsing(context: context)
        case .resolveDestination(let target):
            shared.dialer.resolve(target, for: clientAddress, on: context.eventLoop).assumeIsolated().whenComplete {
                result in
                self.run(self.machine.destinationResolved(result.mapError(UpstreamError.from)), context: context)
            }
        case .accept(let connect):
            accept(connect, context: context)
        case .forwardPlain(let head, let body, let host, let port):
            plainHost = host
            let connect = PendingConnect()
            plainConnect = connect
            shared.upstreamPools.value(for: context.eventLoop).exchange(
                head,
                body: body,
                for: clientAddress,
                host: host,
                port: port,
                tls: false,
                pending: connect
            ) { result in
                if self.plainConnect === connect { self.plainConnect = nil }
                switch result {
                case .success(let response):
                    self.run(self.machine.plainResponded(response), context: context)
                case .failure(let failure):
                    if failure.code != .destinationRefused { self.shared.metrics.upstreamErrors.increment() }
                    self.run(self.machine.plainFailed(failure, host: self.plainHost), context: context)
                }
            }
        case .answerPlain(let response, let keepAlive):
            deadline.answered()
            reservation.releaseAll()
            // The answer stays counted until the kernel has taken it: else a client that never reads held answers
            // of a size its own server chose, outside the budget (review 35 F1: 2,000 of them, 968 MiB, no 503).
            let answerBytes = response.body?.readableBytes ?? 0
            guard reservation.take(answerBytes) else {
                return writeErrorAndClose(.serviceUnavailable, BodyMemoryBudget.refusal, context: context)
            }
            let written = HTTPResponseWriting.write(
                status: response.head.status,
                headers: HTTPResponseWriting.forwardable(response.head.headers),
                body: response.body,
                keepAlive: keepAlive,
                context: context,
                wrap: wrapOutboundOut
            )
            written.assumeIsolated().whenComplete { _ in
                self.reservation.release(answerBytes)
                if !keepAlive { context.close(promise: nil) }
            }
        case .refuseForbidden(let refusal):
            SessionHandover.refuse(refusal, client: clientAddress, shared: shared, context: context) { correlationID in
                self.writeErrorAndClose(
                    .forbidden,
                    refusal.reason,
                    correlationID: correlationID,
                    context: context
                )
            }
        case .refuseMakerToken(let refusal):
            refuseMakerToken(refusal, context: context)
        case .refuse(let status, let reason):
            writeErrorAndClose(status, reason, context: context)
        case .close:
            context.close(promise: nil)
        }
    }

    /// A verified token seen before, an address map entry or the default answer at once; a new maker token is
    /// verified off the event loop.
    private func resolveCreator(
        _ proxyAuthorization: String?,
        clientAddress: IPAddress,
        context: ChannelHandlerContext
    ) {
        switch shared.creators.lookUp(proxyAuthorization: proxyAuthorization, clientAddress: clientAddress) {
        case .resolved(let resolution):
            run(machine.creatorResolved(resolution), context: context)
        case .verify(let token):
            let creators = shared.creators
            let promise = context.eventLoop.makePromise(of: CreatorResolver.Resolution.self)
            promise.completeWithTask { await creators.verify(token, clientAddress: clientAddress) }
            promise.futureResult.assumeIsolated().whenSuccess { resolution in
                self.run(self.machine.creatorResolved(resolution), context: context)
            }
        }
    }

    /// The CONNECT's head is whole: a `RawBytesHold` takes the decoder's place, and the machine hears of it once
    /// the decoder has left. (NIO removes a decoder on a later tick and then forwards the bytes it still held; until
    /// then nothing may be handed over, or those bytes would arrive after later ones.)
    private func stopParsing(context: ChannelHandlerContext) {
        let sync = context.pipeline.syncOperations
        let hold = RawBytesHold()
        guard let decoder = try? sync.context(handlerType: ByteToMessageHandler<ClientRequestDecoder>.self) else {
            return context.close(promise: nil)
        }
        do {
            try sync.addHandler(hold, position: .after(decoder.handler))
        } catch {
            return context.close(promise: nil)
        }
        self.hold = hold
        let removed = context.eventLoop.makePromise(of: Void.self)
        sync.removeHandler(context: decoder, promise: removed)
        removed.futureResult.assumeIsolated().whenComplete { _ in
            self.run(self.machine.parsingStopped(), context: context)
        }
    }

    /// 200, then this handler leaves and the hold hands what it holds over: on port 443 to the ClientHello's
    /// reader (`ClientHelloPeekHandler`); elsewhere the CONNECT's name decides between interception and a tunnel.
    private func accept(_ connect: AcceptedConnect, context: ChannelHandlerContext) {
        let sync = context.pipeline.syncOperations
        guard context.channel.isActive, let hold, let holdContext = try? sync.context(handler: hold) else {
            return context.close(promise: nil)
        }
        sendEstablished(context: context)
        machine.channelClosed()  // nothing more reaches this handler once it is removed
        self.hold = nil
        sync.removeHandler(context: context, promise: nil)
        // Entra answers on 443; a tunnel to one of its addresses on another port is held to the same rule.
        let entraLanding = shared.entraAddresses.landing(connect.tunnelRoute?.address)
        if connect.target.port == 443 || entraLanding != nil {
            SessionHandover.replace(
                hold,
                with: [
                    ClientHelloPeekHandler(
                        .connect(connect, entraLanding: entraLanding),
                        client: clientAddress,
                        shared: shared
                    )
                ],
                replaying: hold.takeHeld(),
                thenInputClosed: connect.clientFinished,
                context: holdContext
            )
        } else if connect.namesInterceptedHost {
            SessionHandover.intercept(
                host: connect.target,
                creator: connect.creator,
                client: clientAddress,
                pending: hold.takeHeld,
                shared: shared,
                replacing: hold,
                context: holdContext
            )
        } else if let tunnelRoute = connect.tunnelRoute {
            SessionHandover.tunnel(
                along: tunnelRoute,
                shared: shared,
                pending: hold.takeHeld,
                clientFinished: { [finished = connect.clientFinished] in finished || hold.sawInputClosed },
                replacing: hold,
                context: holdContext
            )
        } else {
            holdContext.close(promise: nil)
        }
    }

    /// 200, then no more HTTP here: the encoder and the request-head deadline go (tunnels and intercepted
    /// sessions have their own).
    private func sendEstablished(context: ChannelHandlerContext) {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["content-length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let sync = context.pipeline.syncOperations
        if let encoder = try? sync.context(handlerType: HTTPResponseEncoder.self) {
            sync.removeHandler(context: encoder, promise: nil)
        }
        sync.removeHandler(deadline, promise: nil)
    }

    private func refuseMakerToken(_ refusal: ConnectionRefusal, context: ChannelHandlerContext) {
        SessionHandover.refuse(refusal, client: clientAddress, shared: shared, context: context) { correlationID in
            self.writeAndClose(
                .error(
                    .proxyAuthenticationRequired,
                    "creator_token_invalid",
                    "\(refusal.reason). Send a maker token that verifies against the configured keys "
                        + "(--creator-jwks, --creator-jwks-url) for an accepted audience (--creator-audience).",
                    correlationID: correlationID,
                    extraHeaders: [
                        .init(name: "proxy-authenticate", value: #"Bearer realm="tenantgate", error="invalid_token""#)
                    ]
                ),
                context: context
            )
        }
    }

    private func writeErrorAndClose(
        _ status: HTTPResponseStatus,
        _ reason: String,
        correlationID: UUID = .random(),
        context: ChannelHandlerContext
    ) {
        let code = status == .forbidden ? "forbidden" : "proxy_error"
        writeAndClose(.error(status, code, reason, correlationID: correlationID), context: context)
    }

    private func writeAndClose(_ answer: ProxyAnswer, context: ChannelHandlerContext) {
        answer.write(keepAlive: false, context: context, wrap: wrapOutboundOut)
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension ProxyRequestHandler: Sendable {}
