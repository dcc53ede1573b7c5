import ExchangePolicy
import NIOCore
import NetworkPolicy
import TenantPolicy
import TokenInspection

/// Reads the client's TLS ClientHello before choosing between interception and a blind tunnel, as Squid's peek
/// and Envoy's tls_inspector do: the name in the SNI decides, not the CONNECT line alone (SPEC 3).
///
/// - An SNI naming an intercepted host is intercepted as that host, whatever the CONNECT said (an IP literal, an
///   alias). A CONNECT naming an intercepted host whose SNI names another host is refused.
/// - A CONNECT naming an intercepted host must speak TLS; anything else (no TLS, a malformed hello) is refused.
/// - Everything else is a blind tunnel to the address judged for the CONNECT target.
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
    private let shared: ProxyContext
    private var state = State.reading(nil)
    private var received: [NIOAny] = []
    private var receivedBytes = 0
    private var deadline: NIOScheduledCallback?

    init(connect: AcceptedConnect, shared: ProxyContext) {
        self.connect = connect
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
            var part = bytes
            if hello == nil { hello = part } else { hello?.writeBuffer(&part) }
            guard let hello else { return }
            let reading = TLSClientHello.read(hello.readableBytesView)
            if case .needMoreBytes = reading, receivedBytes <= Self.maxHelloBytes {
                state = .reading(hello)
                return
            }
            decide(reading, context: context)
        }
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
        let target = connect.target
        switch reading {
        case .clientHello(let serverName):
            let named = serverName.flatMap { HostName.canonical($0) }
            if let named, shared.interception.intercepts(host: named) {
                guard !connect.namesInterceptedHost || named == target.host else {
                    return refuse(
                        "the CONNECT names \(target.host) but the TLS ClientHello names \(named)",
                        context: context
                    )
                }
                return intercept(HostPort(host: named, port: target.port), context: context)
            }
            guard !connect.namesInterceptedHost else {
                guard let named else { return intercept(target, context: context) }
                return refuse(
                    "the CONNECT names \(target.host) but the TLS ClientHello names \(named)",
                    context: context
                )
            }
            tunnel(context: context)
        case .notTLS:
            guard !connect.namesInterceptedHost else {
                return refuse("the client did not start TLS with \(target.host)", context: context)
            }
            tunnel(context: context)
        case .malformed(let problem):
            refuse("the TLS ClientHello is malformed (\(problem))", context: context)
        case .needMoreBytes:
            refuse("the TLS ClientHello is larger than \(Self.maxHelloBytes) bytes", context: context)
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
        guard let address = connect.tunnelAddress else {
            return refuse("no judged address to tunnel to", context: context)
        }
        state = .handingOver
        SessionHandover.tunnel(
            to: address,
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
