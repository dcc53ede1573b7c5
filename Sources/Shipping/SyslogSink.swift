import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import ServerIdentity

#if canImport(Glibc)
import Glibc
#endif

/// `syslog://HOST:PORT`: RFC 5424 messages over TCP, octet-counted (`SyslogMessage`), to rsyslog, syslog-ng or a
/// SIEM's collector; `syslog+tls://HOST:PORT` over TLS (RFC 5425), the receiver's certificate verified against its
/// name with the system's roots and `--ship-ca`.
///
/// Syslog over TCP has no acknowledgement of its own (RFC 6587), so a batch counts as delivered once the receiver's
/// TCP has acknowledged every byte of it on a connection still established (`TCP_INFO`: nothing unsent, nothing
/// unacknowledged). A connection that breaks, or has not taken and acknowledged a batch within
/// `acknowledgementTimeout` (a receiver that stopped reading), is closed and the batch sent again on a new one.
package actor SyslogSink: ShipSink {
    package nonisolated let name: String
    private let host: String
    private let port: Int
    /// The HOSTNAME field, made once.
    private let hostname: [UInt8]
    private let acknowledgementTimeout: Duration
    /// TLS with the receiver (RFC 5425), when given.
    private let tls: NIOSSLContext?
    private var channel: (any Channel)?

    package init(host: String, port: Int, tls: NIOSSLContext? = nil, acknowledgementTimeout: Duration = .seconds(10)) {
        self.name = "syslog\(tls == nil ? "" : "-tls")-\(host)-\(port)"
        self.tls = tls
        self.host = host
        self.port = port
        self.acknowledgementTimeout = acknowledgementTimeout
        self.hostname = SyslogMessage.hostnameField(ShipTransport.hostname)
    }

    package func deliver(_ lines: [AuditRecord]) async throws {
        let channel = try await connected()
        var messages: [UInt8] = []
        messages.reserveCapacity(lines.reduce(0) { $0 + $1.line.count * 2 + 256 })
        var scratch: [UInt8] = []
        for record in lines {
            ShippingThread.offerCore()
            SyslogMessage.append(record, hostname: hostname, to: &messages, scratch: &scratch)
        }
        let buffer = channel.allocator.buffer(bytes: messages)
        // A receiver that stops reading (rsyslog with its queue full) leaves the write pending for good once both
        // sides' buffers are full: the deadline covers the write (and a TLS handshake before it) as well as the
        // acknowledgement, and closing the connection at the deadline fails the pending write.
        let deadline = ContinuousClock.now + acknowledgementTimeout
        let expiry = channel.eventLoop.scheduleTask(in: TimeAmount(acknowledgementTimeout)) {
            channel.close(promise: nil)
        }
        defer { expiry.cancel() }
        do {
            try await channel.writeAndFlush(buffer)
            try await acknowledged(channel, by: deadline)
        } catch {
            self.channel = nil
            try? await channel.close()
            guard ContinuousClock.now < deadline else {
                throw SinkError(
                    "syslog receiver \(host):\(port) did not take the batch within \(acknowledgementTimeout)"
                )
            }
            throw error
        }
    }

    package func shutdown() async {
        try? await channel?.close()
        channel = nil
    }

    private func connected() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let (tls, host) = (self.tls, self.host)
        let handshake = TLSHandshakeOutcome()
        let channel = try await ClientBootstrap(group: ShippingThread.shared.group)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let tls else { return }
                    try channel.pipeline.syncOperations.addHandlers(
                        ServerIdentity.clientHandler(context: tls, host: host),
                        handshake
                    )
                }
            }
            .connect(host: host, port: port)
            .get()
        self.channel = channel
        guard tls != nil else { return channel }
        // A receiver refused in the handshake (its certificate) is reported as such, not as a closed channel. One that
        // takes the connection and never answers the hello has the batch's deadline, and a stop closes it while it
        // waits (review 56: the sink, and the process's stop, waited for good).
        let started = ContinuousClock.now
        let expiry = channel.eventLoop.scheduleTask(in: TimeAmount(acknowledgementTimeout)) {
            channel.close(promise: nil)
        }
        defer { expiry.cancel() }
        do {
            try await handshake.completed(on: channel)
        } catch {
            self.channel = nil
            try? await channel.close()
            guard ContinuousClock.now - started < acknowledgementTimeout else {
                throw SinkError(
                    "syslog receiver \(host):\(port) did not complete a TLS handshake within \(acknowledgementTimeout)"
                )
            }
            throw error
        }
        return channel
    }

    /// Waits until the receiver's TCP has acknowledged everything written, at the latest by `deadline`.
    private func acknowledged(_ channel: any Channel, by deadline: ContinuousClock.Instant) async throws {
        guard let provider = channel as? any SocketOptionProvider else { return }
        while ContinuousClock.now < deadline {
            guard channel.isActive else { throw SinkError("syslog receiver \(host):\(port) closed the connection") }
            let info: TCPInfo = try await provider.unsafeGetSocketOption(
                level: .init(rawValue: CInt(IPPROTO_TCP)),
                name: .init(rawValue: CInt(TCP_INFO))
            ).get()
            // A receiver that went away answers the batch with a reset, after which the socket shows nothing
            // unacknowledged before the event loop has seen the close: only an established connection's
            // acknowledgement counts (a receiver that sent its FIN may drop what its TCP took).
            guard info.isEstablished else {
                throw SinkError("syslog receiver \(host):\(port) closed the connection")
            }
            if info.everythingAcknowledged { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw SinkError(
            "syslog receiver \(host):\(port) did not take the batch within \(acknowledgementTimeout)"
        )
    }
}

/// The start of Linux's `struct tcp_info` (linux/tcp.h), up to `tcpi_notsent_bytes`, which glibc's copy lacks.
private struct TCPInfo: Sendable {
    var words:
        (
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
            UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
        ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    /// `tcpi_state` (offset 0) is `TCP_ESTABLISHED`.
    var isEstablished: Bool {
        withUnsafeBytes(of: words) { raw in raw.load(fromByteOffset: 0, as: UInt8.self) == 1 }
    }

    /// `tcpi_unacked` (offset 24: segments sent and not acknowledged) and `tcpi_notsent_bytes` (offset 144).
    var everythingAcknowledged: Bool {
        withUnsafeBytes(of: words) { raw in
            raw.load(fromByteOffset: 24, as: UInt32.self) == 0 && raw.load(fromByteOffset: 144, as: UInt32.self) == 0
        }
    }
}

package struct SinkError: Error, CustomStringConvertible {
    package let description: String

    package init(_ description: String) {
        self.description = description
    }
}

/// Whether a TLS connection's handshake completed, or why it did not.
private final class TLSHandshakeOutcome: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    /// Set in `handlerAdded`, on the channel's event loop, before anything can complete it.
    private var promise: EventLoopPromise<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        promise = context.eventLoop.makePromise()
    }

    func completed(on channel: any Channel) async throws {
        try await channel.eventLoop.flatSubmit {
            self.promise?.futureResult ?? channel.eventLoop.makeSucceededVoidFuture()
        }
        .get()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent { promise?.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }
}
