import NIOCore
import NetworkPolicy

/// Opens a tunnel through the parent proxy (`--parent-proxy`) before anything else on the connection speaks: sends
/// CONNECT for the target, reads the parent's answer (one bounded head), and only then lets the connection's own
/// handlers see it active, so that their TLS handshake and requests go through the tunnel.
///
/// Its place is first (after the TLS with an `https://` parent). `established` is completed before the bytes that
/// followed the parent's answer are passed on, so a server that speaks first loses nothing to a handler not yet
/// added.
final class ParentTunnelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Squid answers a CONNECT in a few hundred bytes; a longer head is not a proxy's answer.
    private static let maxAnswerBytes = 16 * 1024

    private enum State {
        case connecting
        case awaitingAnswer(ByteBuffer?)
        case established
        case failed
    }

    private let parent: ParentProxy
    private let target: HostPort
    private let timeout: TimeAmount
    private let established: EventLoopPromise<Void>
    private var state = State.connecting
    private var deadline: Scheduled<Void>?
    /// `established` is completed, once.
    private var settled = false
    /// Writes from the handlers behind, held until the tunnel is open (none are expected before it).
    private var heldWrites: [(NIOAny, EventLoopPromise<Void>?)] = []
    /// How much of the answer has been searched for the head's end: a head trickled a byte a read was searched
    /// whole on every read (review 32: a hostile parent made the loop spend seconds on a 16 KiB head).
    private var searchedBytes = 0

    /// - Parameters:
    ///   - target: what the parent is asked to connect to, as `HOST:PORT`;
    ///   - timeout: how long the parent may take to answer the CONNECT (504 after it).
    init(parent: ParentProxy, target: HostPort, timeout: TimeAmount, established: EventLoopPromise<Void>) {
        self.parent = parent
        self.target = target
        self.timeout = timeout
        self.established = established
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendConnect(context: context) }
    }

    /// Held back from the handlers behind until the parent has answered.
    func channelActive(context: ChannelHandlerContext) {
        sendConnect(context: context)
    }

    private func sendConnect(context: ChannelHandlerContext) {
        guard case .connecting = state else { return }
        state = .awaitingAnswer(nil)
        var head = "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n"
        if let authorization = parent.authorization { head += "Proxy-Authorization: \(authorization)\r\n" }
        head += "\r\n"
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: head)), promise: nil)
        let seconds = timeout.nanoseconds / 1_000_000_000
        let failure = UpstreamError(
            code: .timedOut,
            detail: "the parent proxy \(parent.endpoint) did not answer the CONNECT to \(target) within \(seconds) s"
        )
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
            self.fail(failure, context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .awaitingAnswer(var answer) = state else {
            if case .established = state { context.fireChannelRead(data) }
            return
        }
        var bytes = unwrapInboundIn(data)
        state = .failed  // lets go of the buffer, so that appending does not copy it
        if answer == nil { answer = bytes } else { answer?.writeBuffer(&bytes) }
        guard var answer else { return }
        let unsearched = answer.readableBytesView.dropFirst(max(0, searchedBytes - 3))
        guard let headEnd = unsearched.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound else {
            guard answer.readableBytes <= Self.maxAnswerBytes else {
                return fail(parentFailure("answered the CONNECT with more than 16 KiB of head"), context: context)
            }
            searchedBytes = answer.readableBytes
            state = .awaitingAnswer(answer)
            return
        }
        let headLength = headEnd - answer.readerIndex
        let head = answer.readString(length: headLength) ?? ""
        // "\r\n" is one Character: the line ends where it begins. Only printable ASCII of it is ever repeated.
        let firstLine = head.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let statusLine = Substring(
            firstLine.unicodeScalars.filter { $0.value >= 32 && $0.value < 127 }.map(Character.init)
        )
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        // Three digits (RFC 9110 15): `Int` also reads "+200".
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].utf8.count == 3,
            parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) }), let status = Int(parts[1])
        else {
            return fail(parentFailure("answered the CONNECT with '\(statusLine.prefix(80))'"), context: context)
        }
        guard (200..<300).contains(status) else {
            return fail(parentFailure(Self.refusal(status, statusLine: statusLine)), context: context)
        }
        open(leftover: answer, context: context)
    }

    private func open(leftover: ByteBuffer, context: ChannelHandlerContext) {
        settled = true
        deadline?.cancel()
        state = .established
        context.fireChannelActive()
        established.succeed()
        for (data, promise) in heldWrites { context.write(data, promise: promise) }
        heldWrites.removeAll()
        context.flush()
        if leftover.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(leftover))
            context.fireChannelReadComplete()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private static func refusal(_ status: Int, statusLine: Substring) -> String {
        let answered = "answered \(statusLine.dropFirst(9).prefix(80)) to the CONNECT"
        switch status {
        case 407: return answered + ": it wants credentials, or refused those of --parent-proxy-credentials"
        default: return answered
        }
    }

    private func parentFailure(_ what: String) -> UpstreamError {
        UpstreamError(code: .parentFailed, detail: "the parent proxy \(parent.endpoint) \(what) (for \(target))")
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .established: context.write(data, promise: promise)
        case .connecting, .awaitingAnswer: heldWrites.append((data, promise))
        case .failed: promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch state {
        case .connecting, .awaitingAnswer:
            fail(parentFailure("closed the connection before answering the CONNECT"), context: context)
        case .established, .failed:
            break
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard case .established = state else {
            let failure = UpstreamError.from(error)
            return fail(parentFailure("failed: \(failure.detail)"), context: context)
        }
        context.fireErrorCaught(error)
    }

    private func fail(_ failure: UpstreamError, context: ChannelHandlerContext) {
        guard !settled else { return }
        settled = true
        state = .failed
        deadline?.cancel()
        for (_, promise) in heldWrites { promise?.fail(failure) }
        heldWrites.removeAll()
        established.fail(failure)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ParentTunnelHandler: Sendable {}
