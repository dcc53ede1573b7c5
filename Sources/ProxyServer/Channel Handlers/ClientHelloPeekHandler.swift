import ExchangePolicy
import NIOCore
import NetworkPolicy

/// Reads the client's TLS ClientHello of an accepted CONNECT to port 443 (bounded, with the handshake's deadline),
/// then carries out what `ClientHelloPlan` makes of it: interception as the SNI's host, a blind tunnel, or a refusal.
///
/// Every read is kept (at most `maxHelloBytes`) and replayed to whatever comes next.
final class ClientHelloPeekHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    /// Envoy's tls_inspector reads at most 64 KiB of ClientHello; a record header and slack on top.
    private static let maxHelloBytes = 64 * 1024 + 512

    /// Allowed transitions: reading → handingOver (→ removed) | refused.
    private enum State {
        case reading(ByteBuffer?)
        /// Decided; reads that arrive before the next handler is in place are kept for it.
        case handingOver
        case refused
    }

    private let connect: AcceptedConnect
    private let entraLanding: IPAddress?
    private let shared: ProxyContext
    private var state = State.reading(nil)
    private var received: [NIOAny] = []
    private var receivedBytes = 0
    /// Where the TLS record being received ends, in the hello so far (0 before the first header): the hello is
    /// read again only when a record becomes whole, not on every segment (1-byte segments made it quadratic).
    private var recordEnd = 0
    private var records = 0
    private var lastWholeRecordEnd = 0
    /// More records than any ClientHello needs (64 KiB in records of at least 1 KiB).
    private static let maxRecords = 64
    private var deadline: NIOScheduledCallback?

    /// - Parameter entraLanding: the tunnel's address, when it is one of Entra's.
    init(connect: AcceptedConnect, entraLanding: IPAddress?, shared: ProxyContext) {
        self.connect = connect
        self.entraLanding = entraLanding
        self.shared = shared
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Self.unwrapInboundIn(data)
        receivedBytes += bytes.readableBytes
        switch state {
        case .refused:
            return
        case .handingOver:
            guard receivedBytes <= Self.maxHelloBytes * 2 else { return context.close(promise: nil) }
            received.append(data)
        case .reading(var hello):
            received.append(data)
            // The state lets go of the buffer first, so that appending to it does not copy it.
            state = .refused
            if hello == nil { hello = bytes } else { hello?.writeImmutableBuffer(bytes) }
            guard let hello else { return }
            guard advanceRecords(hello) || hello.readableBytes <= 5 || receivedBytes > Self.maxHelloBytes else {
                state = .reading(hello)
                return
            }
            guard records <= Self.maxRecords else {
                return decide(
                    .malformed("the ClientHello is spread over more than \(Self.maxRecords) records"),
                    context: context
                )
            }
            let reading = TLSClientHello.read(hello.readableBytesView)
            if case .needMoreBytes = reading, receivedBytes <= Self.maxHelloBytes {
                state = .reading(hello)
                return
            }
            decide(reading, context: context)
        }
    }

    /// Walks the record headers that have arrived since the last read; true when a header arrived (to be checked
    /// at once) or a record became whole (only then can the ClientHello have become whole).
    private func advanceRecords(_ hello: ByteBuffer) -> Bool {
        var completed = false
        while hello.readableBytes >= recordEnd {
            if recordEnd > 0, recordEnd > lastWholeRecordEnd {
                lastWholeRecordEnd = recordEnd
                completed = true
            }
            guard hello.readableBytes >= recordEnd + 5,
                let length = hello.getInteger(at: hello.readerIndex + recordEnd + 3, as: UInt16.self)
            else { break }
            recordEnd += 5 + Int(length)
            records += 1
            completed = true
        }
        return completed
    }

    /// The hello is part of the TLS handshake: it gets the handshake's deadline, not the connection's idle time.
    func handlerAdded(context: ChannelHandlerContext) {
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let channel = context.channel
        deadline = try? context.eventLoop.scheduleCallback(
            in: .seconds(shared.configuration.tlsHandshakeTimeoutSeconds),
            handler: HelloDeadline(handler: handler, channel: channel)
        )
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    fileprivate func helloDeadlinePassed(channel: any Channel) {
        guard case .reading = state else { return }
        state = .refused
        channel.close(promise: nil)
    }

    private func decide(_ reading: TLSClientHello.Reading, context: ChannelHandlerContext) {
        let plan = ClientHelloPlan.plan(
            for: reading,
            target: connect.target,
            connectNamesInterceptedHost: connect.namesInterceptedHost,
            entraAddress: entraLanding,
            rules: shared.interception,
            helloLimit: Self.maxHelloBytes
        )
        switch plan {
        case .intercept(let host): intercept(host, context: context)
        case .tunnel: tunnel(context: context)
        case .refuse(let reason): refuse(reason, context: context)
        }
    }

    private func intercept(_ host: HostPort, context: ChannelHandlerContext) {
        state = .handingOver
        SessionHandover.intercept(
            host: host,
            creator: connect.creator,
            pending: { [unowned self] in self.received },
            shared: shared,
            replacing: self,
            context: context
        )
    }

    private func tunnel(context: ChannelHandlerContext) {
        guard let route = connect.tunnelRoute else {
            return refuse("no judged address to tunnel to", context: context)
        }
        state = .handingOver
        SessionHandover.tunnel(
            along: route,
            shared: shared,
            pending: { [unowned self] in self.received },
            replacing: self,
            context: context
        )
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        state = .refused
        received.removeAll()
        SessionHandover.refuse(
            ConnectionRefusal(
                host: connect.target.host,
                creator: connect.creator.tenant,
                setting: .tlsServerName,
                reason: reason
            ),
            shared: shared,
            context: context
        )
    }
}

@available(*, unavailable)
extension ClientHelloPeekHandler: Sendable {}

private struct HelloDeadline: NIOScheduledCallbackHandler, Sendable {
    let handler: NIOLoopBound<ClientHelloPeekHandler>
    let channel: any Channel

    func handleScheduledCallback(eventLoop: some EventLoop) {
        handler.value.helloDeadlinePassed(channel: channel)
    }
}
