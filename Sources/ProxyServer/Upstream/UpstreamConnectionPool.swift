import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NetworkPolicy
import ServerIdentity

/// Keeps idle upstream connections per target so that token exchanges skip TCP and TLS handshakes.
///
/// One pool per event loop, used only on that loop: client and upstream channels share the loop, so no locks. An
/// exchange reports through a callback rather than futures: on a pooled connection it allocates no promise at all,
/// and the per-exchange futures had shown up in profiles.
final class UpstreamConnectionPool {
    typealias Completion = (Result<NIOHTTPClientResponseFull, UpstreamError>) -> Void

    /// A pooled upstream connection: the channel, the name it was verified for, and the handler that exchanges on it.
    struct Connection: IdleKeepable {
        let channel: any Channel
        let key: Key
        let exchanger: UpstreamResponseHandler
        /// The parent proxy a plain http connection goes to, which takes absolute-form requests.
        let forwardingParent: ParentProxy?
        /// When it last went back to the pool.
        var idleSince = NIODeadline.now()
    }

    struct Key: Hashable {
        let host: String
        let port: Int
        let tls: Bool
    }

    private let eventLoop: any EventLoop
    private let tlsContext: NIOSSLContext
    private let configuration: ProxyConfiguration
    private let dialer: UpstreamDialer
    private var idle = IdleConnections<Connection>()
    /// Idle connections whose bodies stream (resource hosts), kept apart: their pipelines differ.
    private var idleStreams = IdleConnections<StreamConnection>()
    /// Closes connections idle past `upstreamIdleTimeoutSeconds`; scheduled while any connection is idle.
    private var sweep: Scheduled<Void>?

    private let bodyBudget: BodyMemoryBudget

    init(
        eventLoop: any EventLoop,
        tlsContext: NIOSSLContext,
        configuration: ProxyConfiguration,
        dialer: UpstreamDialer,
        bodyBudget: BodyMemoryBudget
    ) {
        self.eventLoop = eventLoop
        self.tlsContext = tlsContext
        self.configuration = configuration
        self.dialer = dialer
        self.bodyBudget = bodyBudget
    }

    /// Sends one request to `host:port` over an idle connection, or a new one (TLS verified against `host`), and
    /// calls `completion` once with the whole response or the failure. The connection returns to the pool when
    /// the response lets it stay open.
    func exchange(
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        for client: IPAddress,
        host: String,
        port: Int,
        tls: Bool,
        pending: PendingConnect? = nil,
        completion: @escaping Completion
    ) {
        eventLoop.preconditionInEventLoop()
        let key = Key(host: host.lowercased(), port: port, tls: tls)
        let onNewConnection = {
            self.exchangeOnNewConnection(
                head,
                body: body,
                for: client,
                key: key,
                pending: pending,
                completion: completion
            )
        }
        guard let connection = takeIdle(key) else { return onNewConnection() }
        send(head, body: body, for: client, on: connection) { result in
            // A pooled connection that closed before anything was written: once more, on a fresh one.
            if case .failure(let failure) = result, failure.code == .notSent { return onNewConnection() }
            completion(result)
        }
    }

    private func exchangeOnNewConnection(
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        for client: IPAddress,
        key: Key,
        pending: PendingConnect?,
        completion: @escaping Completion
    ) {
        connect(key, for: lookupOwner(key, client), pending: pending).assumeIsolated().whenComplete { result in
            pending?.settled()
            switch result {
            case .success(let (channel, forwardingParent)):
                guard let exchanger = try? channel.pipeline.syncOperations.handler(type: UpstreamResponseHandler.self)
                else {
                    channel.close(promise: nil)
                    completion(.failure(.connectionClosed))
                    return
                }
                self.send(
                    head,
                    body: body,
                    for: client,
                    on: Connection(
                        channel: channel,
                        key: key,
                        exchanger: exchanger,
                        forwardingParent: forwardingParent
                    ),
                    completion: completion
                )
            case .failure(let error):
                completion(.failure(UpstreamError.from(error)))
            }
        }
    }

    private func takeIdle(_ key: Key) -> Connection? {
        idle.take(key, idleSince: NIODeadline.now() - .seconds(configuration.upstreamIdleTimeoutSeconds))
    }

    /// One timer per pool, not per connection: every idle-timeout period, connections idle longer are closed.
    private func scheduleSweep() {
        guard sweep == nil else { return }
        let period = TimeAmount.seconds(configuration.upstreamIdleTimeoutSeconds)
        sweep = eventLoop.assumeIsolated().scheduleTask(in: period) {
            self.sweep = nil
            let oldest = NIODeadline.now() - period
            self.idle.sweep(idleSince: oldest)
            self.idleStreams.sweep(idleSince: oldest)
            if !self.idle.isEmpty || !self.idleStreams.isEmpty { self.scheduleSweep() }
        }
    }

    private func send(
        _ head: HTTPRequestHead,
        body: ByteBuffer?,
        for client: IPAddress,
        on connection: Connection,
        completion: @escaping Completion
    ) {
        let timeout = TimeAmount.seconds(configuration.upstreamResponseTimeoutSeconds)
        let parent = connection.forwardingParent
        let sent = parent.map { Self.absoluteForm(head, key: connection.key, parent: $0) } ?? head
        connection.exchanger.send(sent, body: body, for: client, timeout: timeout) { result in
            if case .success(let response) = result, response.head.isKeepAlive {
                self.release(connection)
            } else {
                connection.channel.close(promise: nil)
            }
            // The parent's own refusal is not the server's answer: the client cannot give the parent credentials.
            if let parent, case .success(let response) = result, response.head.status == .proxyAuthenticationRequired {
                return completion(
                    .failure(
                        UpstreamError(
                            code: .parentFailed,
                            detail:
                                "the parent proxy \(parent.endpoint) answered 407 to http://\(connection.key.host): "
                                + "it wants credentials, or refused those of --parent-proxy-credentials"
                        )
                    )
                )
            }
            completion(result)
        }
    }

    /// A plain request as a proxy takes it: the absolute URL, and the parent's credentials.
    private static func absoluteForm(_ head: HTTPRequestHead, key: Key, parent: ParentProxy) -> HTTPRequestHead {
        var head = head
        head.uri = "http://\(HostPort(host: key.host, port: key.port))\(head.uri)"
        head.headers.remove(name: "proxy-authorization")
        if let authorization = parent.authorization {
            head.headers.add(name: "Proxy-Authorization", value: authorization)
        }
        return head
    }

    /// Keeps a connection whose response was fully read, unless the pool for its target is full (`IdleConnections`).
    private func release(_ connection: Connection) {
        if idle.keep(
            connection,
            perTarget: configuration.maxIdleUpstreamConnectionsPerHost,
            total: configuration.maxIdleUpstreamConnections
        ) {
            scheduleSweep()
        }
    }

    /// A new connection for `key`, and the parent proxy when plain http goes to one (absolute form, no CONNECT).
    private func connect(
        _ key: Key,
        for client: IPAddress?,
        pending: PendingConnect? = nil
    ) -> EventLoopFuture<(any Channel, ParentProxy?)> {
        let tlsContext = self.tlsContext
        let maxBody = configuration.maxBodyBytes
        let bodyBudget = self.bodyBudget
        let handshakeTimeout = TimeAmount.seconds(configuration.tlsHandshakeTimeoutSeconds)
        let initializer: @Sendable (any Channel) throws -> Void = { channel in
            pending?.started(channel)
            let sync = channel.pipeline.syncOperations
            if key.tls {
                // The name verified is the real host, wherever an override or a parent sends the bytes.
                try sync.addHandler(ServerIdentity.clientHandler(context: tlsContext, host: key.host))
                try sync.addHandler(WriteCoalescingHandler())
            }
            let exchanger = UpstreamResponseHandler(
                maxBodyBytes: maxBody,
                bodyBudget: bodyBudget,
                handshakeTimeout: key.tls ? handshakeTimeout : nil
            )
            try sync.addHandler(HTTPRequestEncoder())
            try sync.addHandler(HTTPDecoding.responseDecoder(leftOverBytes: .dropBytes, boundary: exchanger.boundary))
            try sync.addHandler(exchanger)
        }
        let dialer = self.dialer
        let eventLoop = self.eventLoop
        return dialer.resolve(HostPort(host: key.host, port: key.port), namedByTLS: key.tls, for: client, on: eventLoop)
            .flatMap { route in
                // Plain http takes the absolute form by name only when the operator chose names
                // (`--parent-proxy-connect name`); else it goes as a tunnel does, through a CONNECT to the address
                // judged here: by name, the parent's resolver (split DNS, rebinding) took it to addresses
                // `--allow-destination` refuses (review 60 F1).
                let forwardingParent =
                    key.tls ? nil : route.parentIfCarried.flatMap { $0.tunnelTarget == .name ? $0 : nil }
                return dialer.connect(route, tunnel: forwardingParent == nil, on: eventLoop, initializer: initializer)
                    .map { ($0, forwardingParent) }
            }
    }

    // MARK: - Streaming connections

    /// An upstream connection whose request and response bodies stream through its session.
    struct StreamConnection: IdleKeepable {
        let channel: any Channel
        let key: Key
        let handler: UpstreamStreamHandler
        var idleSince = NIODeadline.now()
    }

    /// An idle streaming connection to `host:port` (TLS), if one is kept.
    func idleStream(host: String, port: Int) -> StreamConnection? {
        eventLoop.preconditionInEventLoop()
        return idleStreams.take(
            Key(host: host.lowercased(), port: port, tls: true),
            idleSince: NIODeadline.now() - .seconds(configuration.upstreamIdleTimeoutSeconds)
        )
    }

    /// A new streaming connection to `host:port` for `client`, TLS verified against `host`.
    func newStream(host: String, port: Int, for client: IPAddress) -> EventLoopFuture<StreamConnection> {
        connectStream(Key(host: host.lowercased(), port: port, tls: true), for: client)
    }

    /// Keeps a streaming connection whose exchange ended cleanly, unless the pool for its target is full.
    func releaseStream(_ connection: StreamConnection) {
        connection.handler.delegate = nil
        if idleStreams.keep(
            connection,
            perTarget: configuration.maxIdleUpstreamConnectionsPerHost,
            total: configuration.maxIdleUpstreamConnections
        ) {
            scheduleSweep()
        }
    }

    /// Whose lookup a connection's is: the proxy's for a name it was given whole (nil), else the client's.
    private func lookupOwner(_ key: Key, _ client: IPAddress) -> IPAddress? {
        key.tls && configuration.namesWhole(key.host) ? nil : client
    }

    private func connectStream(_ key: Key, for client: IPAddress) -> EventLoopFuture<StreamConnection> {
        let tlsContext = self.tlsContext
        // Nothing moving either way for this long ends the exchange (504), in the handshake as in a body. What moves
        // is the request going out and the answer's head and body coming in, as decoded: bytes that are neither (a
        // head trickled a line at a time, a chunk extension without end) are not progress (review 56: each read of
        // them kept the exchange alive, one for 10 GiB and a core's time, another past the answer deadline).
        let silence = TimeAmount.seconds(configuration.upstreamResponseTimeoutSeconds)
        let initializer: @Sendable (any Channel) throws -> Void = { channel in
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(
                ServerIdentity.clientHandler(context: tlsContext, host: key.host)
            )
            try sync.addHandler(HTTPRequestEncoder())
            // A WebSocket's first frames may come with its 101: they are passed on when the decoder goes.
            let handler = UpstreamStreamHandler()
            try sync.addHandler(HTTPDecoding.responseDecoder(leftOverBytes: .forwardBytes, boundary: handler.boundary))
            try sync.addHandler(IdleStateHandler(allTimeout: silence))
            try sync.addHandler(handler)
        }
        let target = HostPort(host: key.host, port: key.port)
        return dialer.connect(
            target,
            namedByTLS: true,
            for: lookupOwner(key, client),
            on: eventLoop,
            initializer: initializer
        )
        .assumeIsolated()
        .flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: UpstreamStreamHandler.self)
            return StreamConnection(channel: channel, key: key, handler: handler)
        }
        .nonisolated()
    }

}

@available(*, unavailable)
extension UpstreamConnectionPool: Sendable {}
