import ExchangePolicy
import NIOCore
import NetworkPolicy

/// Reads the client's TLS ClientHello (bounded, with the handshake's deadline) of an accepted CONNECT to port 443 or
/// of a connection the kernel redirected, then carries out what `ClientHelloPlan` makes of it: interception as the
/// SNI's host, a blind tunnel, or a refusal. A redirected connection is first judged as the CONNECT its hello and
/// original destination stand for (`RedirectedConnection`).
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

    /// What the hello is read for.
    enum Purpose {
        /// An accepted CONNECT, with its tunnel's address when it is one of Entra's.
        case connect(AcceptedConnect, entraLanding: IPAddress?)
        /// A connection redirected to the transparent listener.
        case redirected(RedirectedConnection)
    }

    private let purpose: Purpose
    private let shared: ProxyContext
    private var state = State.reading(nil)
    private var received: [NIOAny] = []
    private var receivedBytes = 0
    /// The client's FIN, kept for a tunnel to pass on after the bytes (as `RawBytesHold` keeps it).
    private var sawInputClosed = false
    /// Where the TLS record being received ends, in the hello so far (0 before the first header): the hello is
    /// read again only when a record becomes whole, not on every segment (1-byte segments made it quadratic).
    private var recordEnd = 0
    private var records = 0
    private var lastWholeRecordEnd = 0
    /// More records than any ClientHello needs (64 KiB in records of at least 1 KiB).
    private static let maxRecords = 64
    private var deadline: NIOScheduledCallback?

    /// The admitted client, whose share of the body memory an intercepted session's bodies count against.
    private let client: IPAddress

    init(_ purpose: Purpose, client: IPAddress, shared: ProxyContext) {
        self.purpose = purpose
        self.client = client
        self.shared = shared
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            sawInputClosed = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
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
        switch purpose {
        case .connect(let connect, let entraLanding):
            decide(reading, connect: connect, entraLanding: entraLanding, context: context)
        case .redirected(let redirected):
            // Reads that arrive while it is judged are kept for what follows.
            state = .handingOver
            // A refusal is audited whether or not the client is still there: a probe that resets right after its
            // hello must leave its line, as on the explicit listener (review 32).
            redirected.judge(reading, shared: shared, on: context.eventLoop).assumeIsolated().whenSuccess { verdict in
                switch verdict {
                case .accepted(let connect, let entraLanding):
                    self.decide(reading, connect: connect, entraLanding: entraLanding, context: context)
                case .refused(let refusal):
                    self.refuse(refusal, context: context)
                }
            }
        }
    }

    private func decide(
        _ reading: TLSClientHello.Reading,
        connect: AcceptedConnect,
        entraLanding: IPAddress?,
        context: ChannelHandlerContext
    ) {
        let plan = ClientHelloPlan.plan(
            for: reading,
            target: connect.target,
            connectNamesInterceptedHost: connect.namesInterceptedHost,
            entraAddress: entraLanding,
            rules: shared.interception,
            helloLimit: Self.maxHelloBytes
        )
        switch plan {
        case .refuse(let reason): refuse(reason, connect: connect, context: context)
        // Nothing is opened for a client already gone (a redirected hello is judged after a name lookup).
        case _ where !context.channel.isActive: return
        case .intercept(let host): intercept(host, creator: connect.creator, context: context)
        case .tunnel: tunnel(connect, context: context)
        }
    }

    private func intercept(_ host: HostPort, creator: CreatorResolver.Resolution, context: ChannelHandlerContext) {
        state = .handingOver
        SessionHandover.intercept(
            host: host,
            creator: creator,
            client: client,
            pending: { [unowned self] in self.received },
            shared: shared,
            replacing: self,
            context: context
        )
    }

    private func tunnel(_ connect: AcceptedConnect, context: ChannelHandlerContext) {
        guard let route = connect.tunnelRoute else {
            return refuse("no judged address to tunnel to", connect: connect, context: context)
        }
        state = .handingOver
        SessionHandover.tunnel(
            along: route,
            shared: shared,
            pending: { [unowned self] in self.received },
            clientFinished: { [unowned self] in self.sawInputClosed },
            replacing: self,
            context: context
        )
    }

    private func refuse(_ reason: String, connect: AcceptedConnect, context: ChannelHandlerContext) {
        refuse(
            ConnectionRefusal(
                host: connect.target.host,
                creator: connect.creator.tenant,
                setting: .tlsServerName,
                reason: reason
            ),
            context: context
        )
    }

    private func refuse(_ refusal: ConnectionRefusal, context: ChannelHandlerContext) {
        state = .refused
        received.removeAll()
        SessionHandover.refuse(refusal, client: client, shared: shared, context: context)
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
