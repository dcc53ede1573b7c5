import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy

/// The first handler of a connection from a trusted load balancer (`--proxy-protocol-from`): reads the PROXY protocol
/// header (v1 or v2) the balancer sends before anything else, then makes the connection what it would have been had
/// the client it names connected directly (`SessionPipeline`: admission, caps, the creator address map), handing on
/// whatever followed the header. A balancer's own connection (`LOCAL`, `UNKNOWN`) stands for the balancer.
///
/// Required, not optional: a connection from such an address without a valid header within the request-head
/// deadline, or with more bytes than a header can have, is refused (400, `clientPolicy` audit line) and closed, so a
/// client that reaches TenantGate around the balancer cannot pass as the balancer's clients. One the balancer closes
/// before its header (a health check's connect and close) is closed at once, unaudited: nothing was asked. Until
/// its header is read the connection holds a place as the balancer's (`ClientAdmission.admitBalancer`), given back
/// here.
final class ProxyProtocolHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let peer: IPAddress
    private let shared: ProxyContext
    private let session: SessionPipeline
    private var received: ByteBuffer?
    private var deadline: Scheduled<Void>?
    private var finished = false
    /// Whether the balancer's place is still held (`admitBalancer`).
    private var holdsPlace = true

    init(peer: IPAddress, shared: ProxyContext, session: SessionPipeline) {
        self.peer = peer
        self.shared = shared
        self.session = session
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let seconds = shared.configuration.requestHeadTimeoutSeconds
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(seconds)) {
            self.refuse("no PROXY protocol header from the balancer \(self.peer) within \(seconds) s", context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        givePlaceBack()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !finished, case .some(.inputClosed) = event as? ChannelEvent {
            finished = true
            deadline?.cancel()
            received = nil
            return context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func givePlaceBack() {
        guard holdsPlace else { return }
        holdsPlace = false
        shared.admission.release(peer)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        var bytes = unwrapInboundIn(data)
        if received == nil {
            received = bytes
        } else {
            received?.writeBuffer(&bytes)
        }
        guard var buffered = received else { return }
        let header = ProxyProtocolHeader.read(buffered.readableBytesView)
        switch header {
        case .needMoreBytes:
            if buffered.readableBytes > ProxyProtocolHeader.maximumLength {
                refuse("the balancer \(peer) sent more than a PROXY protocol header can hold", context: context)
            }
        case .invalid(let reason):
            refuse("\(reason) (from the balancer \(peer))", context: context)
        case .complete(let source, let length):
            finished = true
            deadline?.cancel()
            buffered.moveReaderIndex(forwardBy: length)
            received = nil
            // The client it names takes the place now, under its own caps.
            givePlaceBack()
            do {
                try session.install(
                    on: context.pipeline.syncOperations,
                    channel: context.channel,
                    client: source ?? peer,
                    after: self
                )
            } catch {
                return context.close(promise: nil)
            }
            if buffered.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(buffered))
                context.fireChannelReadComplete()
            }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    /// Refused as the connection's client cannot be known: a 400 and a `clientPolicy` audit line, then closed.
    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        received = nil
        let refusal = ConnectionRefusal(host: "", creator: nil, setting: .clientPolicy, reason: reason)
        SessionHandover.refuse(refusal, client: peer, shared: shared, context: context) { correlationID in
            let answer = ProxyAnswer.error(.badRequest, "bad_request", reason, correlationID: correlationID)
            context.writeAndFlush(self.wrapOutboundOut(answer.serialized(allocator: context.channel.allocator)))
                .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension ProxyProtocolHandler: Sendable {}
