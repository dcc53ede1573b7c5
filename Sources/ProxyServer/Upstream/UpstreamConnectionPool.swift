import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keeps idle upstream connections per target so that token exchanges skip TCP and TLS handshakes.
///
/// One pool per event loop, used only on that loop: client and upstream channels share the loop, so no locks.
final class UpstreamConnectionPool {
    /// A pooled upstream connection: the channel and the name it was verified for.
    struct Connection {
        let channel: any Channel
        let key: Key
    }

    struct Key: Hashable {
        let host: String
        let port: Int
        let tls: Bool
    }

    private let eventLoop: any EventLoop
    private let tlsContext: NIOSSLContext
    private let configuration: ProxyConfiguration
    private var idle: [Key: [any Channel]] = [:]

    init(eventLoop: any EventLoop, tlsContext: NIOSSLContext, configuration: ProxyConfiguration) {
        self.eventLoop = eventLoop
        self.tlsContext = tlsContext
        self.configuration = configuration
    }

    /// An idle connection to `host:port` if one is alive, else a new one (TLS verified against `host`).
    func acquire(host: String, port: Int, tls: Bool) -> EventLoopFuture<Connection> {
        eventLoop.preconditionInEventLoop()
        let key = Key(host: host.lowercased(), port: port, tls: tls)
        while var channels = idle[key], let channel = channels.popLast() {
            idle[key] = channels
            if channel.isActive { return eventLoop.makeSucceededFuture(Connection(channel: channel, key: key)) }
        }
        return connect(key)
    }

    /// Returns a connection whose response was fully read; closes it if the pool for its target is full.
    func release(_ connection: Connection) {
        eventLoop.preconditionInEventLoop()
        guard connection.channel.isActive else { return }
        var channels = idle[connection.key] ?? []
        guard channels.count < configuration.maxIdleUpstreamConnectionsPerHost else {
            connection.channel.close(promise: nil)
            return
        }
        channels.append(connection.channel)
        idle[connection.key] = channels
    }

    /// Sends one request and waits for its whole response, failing with a time-out after the configured limit.
    func send(_ head: HTTPRequestHead, body: ByteBuffer?, on connection: Connection) -> EventLoopFuture<NIOHTTPClientResponseFull> {
        let promise = eventLoop.makePromise(of: NIOHTTPClientResponseFull.self)
        let timeout = eventLoop.scheduleTask(in: .seconds(configuration.upstreamResponseTimeoutSeconds)) {
            promise.fail(UpstreamError.timedOut)
            connection.channel.close(promise: nil)
        }
        connection.channel.writeAndFlush(UpstreamRequest(head: head, body: body, promise: promise), promise: nil)
        return promise.futureResult.always { _ in timeout.cancel() }
    }

    private func connect(_ key: Key) -> EventLoopFuture<Connection> {
        let address = configuration.upstreamAddress(for: HostPort(host: key.host, port: key.port))
        let tlsContext = self.tlsContext
        let maxBody = configuration.maxBodyBytes
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(configuration.connectTimeoutSeconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if key.tls {
                        // The name verified is the real host, wherever an override sends the bytes.
                        try sync.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: Self.sniName(key.host)))
                    }
                    try sync.addHandler(HTTPRequestEncoder())
                    try sync.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try sync.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: maxBody))
                    try sync.addHandler(UpstreamResponseHandler())
                }
            }
            .connect(host: address.host, port: address.port)
            .map { Connection(channel: $0, key: key) }
            .flatMapErrorThrowing { throw UpstreamError.from($0) }
    }

    /// SNI takes names, not IP literals.
    private static func sniName(_ host: String) -> String? {
        host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
    }
}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
