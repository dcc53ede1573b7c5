import CoreMetrics
import ExchangePolicy
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NetworkPolicy
import Plumbing
import TenantPolicy

/// The two ways an accepted CONNECT continues, shared by the handler that reads the CONNECT and the one that
/// reads the ClientHello: terminate TLS and inspect, or splice bytes to the judged upstream address. Each replaces
/// `handler` (and everything it held) in the pipeline and replays the bytes the client already sent.
enum SessionHandover {
    /// Terminates TLS with a leaf for `host` and serves the decrypted requests: a `ResourceSessionHandler` on a
    /// resource host, a `TokenExchangeHandler` elsewhere.
    static func intercept(
        host: HostPort,
        creator: CreatorResolver.Resolution,
        client: IPAddress,
        pending: @escaping () -> [NIOAny],
        shared: ProxyContext,
        replacing handler: any RemovableChannelHandler,
        context: ChannelHandlerContext
    ) {
        shared.leafContexts.context(for: host.host, client: client, on: context.eventLoop).assumeIsolated().whenComplete
        { result in
            guard context.channel.isActive else { return }
            switch result {
            case .success(let sslContext):
                let configuration = shared.configuration
                let resourcePattern = configuration.interception.resourcePattern(host: host.host)
                let deadline = RequestDeadlineHandler(
                    head: .seconds(configuration.requestHeadTimeoutSeconds),
                    handshake: .seconds(configuration.tlsHandshakeTimeoutSeconds)
                )
                let session = InterceptedSession(
                    target: host,
                    creator: creator,
                    standing: { [creators = shared.creators] in creators.standing($0, clientAddress: client) },
                    client: client,
                    tokenFlows: configuration.tokenFlows,
                    maxBodyBytes: resourcePattern != nil
                        ? configuration.maxBodyBytes
                        : min(configuration.maxBodyBytes, configuration.maxTokenRequestBodyBytes),
                    tenantRestrictionsV2: configuration.tenantRestrictionsV2,
                    resourcePattern: resourcePattern
                )
                let tls: [any ChannelHandler] = [
                    NIOSSLServerHandler(context: sslContext), deadline, WriteCoalescingHandler(), HTTPResponseEncoder(),
                ]
                // Resource hosts stream (one request at a time, the next one waiting); token hosts read whole
                // requests, which they judge by their bodies.
                let handlers: [any ChannelHandler] =
                    session.judgesEveryRequest
                    ? tls + [
                        HTTPDecoding.requestDecoder(leftOverBytes: .forwardBytes),
                        PipelinedRequestQueue(),
                        ResourceSessionHandler(session: session, deadline: deadline, shared: shared),
                    ]
                    : tls + [
                        HTTPDecoding.requestDecoder(leftOverBytes: .dropBytes),
                        TokenExchangeHandler(session: session, deadline: deadline, shared: shared),
                    ]
                replace(handler, with: handlers, replaying: pending(), context: context)
            case .failure(let error as LeafContextCache.MintRateExceeded):
                shared.metrics.leafMintsRefused.increment()
                if let unlogged = shared.metrics.leafMintRefusalLog.occurred() {
                    shared.logger.warning(
                        "session refused: \(error)",
                        metadata: [
                            "host": "\(host.host)", "client": "\(client)", "refused unlogged before": "\(unlogged)",
                        ]
                    )
                }
                context.close(promise: nil)
            case .failure(let error):
                shared.logger.error(
                    "cannot mint a leaf certificate",
                    metadata: ["host": "\(host.host)", "error": "\(error)"]
                )
                context.close(promise: nil)
            }
        }
    }

    /// Connects along `route` (its address already judged by the destination policy; through the parent proxy
    /// unless bypassed) and splices the two channels.
    static func tunnel(
        along route: UpstreamRoute,
        shared: ProxyContext,
        pending: @escaping () -> [NIOAny],
        clientFinished: @escaping () -> Bool,
        replacing handler: any RemovableChannelHandler,
        context: ChannelHandlerContext
    ) {
        let client = context.channel
        shared.dialer.connect(route, halfClosure: true, on: context.eventLoop) { peer in
            // A client that leaves while the connect is under way takes it along: else each held a descriptor for
            // the whole connect timeout (review 41 F2). A tunnel's peer serves no one else, so it may go any time.
            client.closeFuture.whenComplete { _ in peer.close(promise: nil) }
        }
        .assumeIsolated()
        .whenComplete { result in
            switch result {
            case .success(let peer):
                guard context.channel.isActive else { return peer.close(promise: nil) }
                let (local, remote) = GlueHandler.matchedPair()
                do {
                    try peer.pipeline.syncOperations.addHandler(remote)
                } catch {
                    peer.close(promise: nil)
                    return context.close(promise: nil)
                }
                // A tunnel lives while bytes move either way; the request idle timer gives way to that.
                let sync = context.pipeline.syncOperations
                if let idle = try? sync.context(handlerType: IdleStateHandler.self) {
                    sync.removeHandler(context: idle, promise: nil)
                }
                let tunnelIdle = IdleStateHandler(
                    allTimeout: .seconds(shared.configuration.tunnelIdleTimeoutSeconds)
                )
                replace(
                    handler,
                    with: [tunnelIdle, local],
                    replaying: pending(),
                    thenInputClosed: clientFinished(),
                    context: context
                )
            case .failure(let error):
                // The 200 is already sent: closing is the only answer left.
                shared.metrics.upstreamErrors.increment()
                shared.logger.notice(
                    "tunnel could not be opened",
                    metadata: ["route": "\(route.target)", "error": "\(UpstreamError.from(error))"]
                )
                context.close(promise: nil)
            }
        }
    }

    /// Audits a refused connection (`blocked`, with the policy that refused it as `setting`), then runs `answer`
    /// with the line's correlation ID, or closes when there is nothing left to answer with.
    static func refuse(
        _ refusal: ConnectionRefusal,
        client: IPAddress?,
        shared: ProxyContext,
        context: ChannelHandlerContext,
        answer: ((UUID) -> Void)? = nil
    ) {
        shared.logger.notice(
            "connection refused",
            metadata: [
                "host": "\(refusal.host)", "setting": "\(refusal.setting.rawValue)", "reason": "\(refusal.reason)",
            ]
        )
        let correlationID = UUID.random()
        let line = refusal.auditEvent(correlationID: correlationID, at: Date())
        shared.recordAudit(line, client: client, on: context.eventLoop) { _ in
            if let answer { answer(correlationID) } else { context.close(promise: nil) }
        }
    }

    /// Puts `handlers` where `handler` is, replaying `pending` (the reads `handler` kept) to the first of them.
    static func replace(
        _ handler: any RemovableChannelHandler,
        with handlers: [any ChannelHandler],
        replaying pending: [NIOAny],
        thenInputClosed clientFinished: Bool = false,
        context: ChannelHandlerContext
    ) {
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandlers(handlers, position: .after(handler))
            for data in pending { context.fireChannelRead(data) }
            context.fireChannelReadComplete()
            // The client's FIN came before the next stage was in place: it follows the bytes, as it did on the wire.
            if clientFinished { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
            sync.removeHandler(context: context, promise: nil)
        } catch {
            context.close(promise: nil)
        }
    }
}
