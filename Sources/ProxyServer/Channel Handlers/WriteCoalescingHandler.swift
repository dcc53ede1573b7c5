import NIOCore

/// Joins the small buffers written between two flushes into one, just above TLS.
///
/// NIO's HTTP encoders write a message as separate buffers (head, body, end) and NIOSSL seals each buffer in its own
/// TLS record, so an answer cost two or three `SSL_write` calls and records. Sealing one joined buffer costs one.
/// Joining stops at one record's worth of plaintext: beyond it TLS splits anyway, so larger bodies pass as they
/// are and the copy stays bounded.
final class WriteCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    /// The most plaintext one TLS record carries (RFC 8446 section 5.1).
    static let recordPlaintextLimit = 16_384

    private var pending: ByteBuffer?
    private var promises: [EventLoopPromise<Void>] = []

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .byteBuffer(var buffer) = unwrapOutboundIn(data) else {
            // File regions pass as they are, after what was written before them.
            writePending(context: context)
            context.write(data, promise: promise)
            return
        }
        if let joined = pending?.readableBytes, joined + buffer.readableBytes > Self.recordPlaintextLimit {
            writePending(context: context)
        }
        guard buffer.readableBytes <= Self.recordPlaintextLimit else {
            context.write(data, promise: promise)
            return
        }
        if let promise { promises.append(promise) }
        if pending == nil {
            pending = buffer
        } else {
            pending?.writeBuffer(&buffer)
        }
    }

    func flush(context: ChannelHandlerContext) {
        writePending(context: context)
        context.flush()
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writePending(context: context)
        context.close(mode: mode, promise: promise)
    }

    private func writePending(context: ChannelHandlerContext) {
        guard let buffer = pending else { return }
        pending = nil
        let waiting = promises
        promises.removeAll(keepingCapacity: true)
        let promise: EventLoopPromise<Void>?
        switch waiting.count {
        case 0: promise = nil
        case 1: promise = waiting[0]
        default:
            let shared = context.eventLoop.makePromise(of: Void.self)
            for each in waiting { shared.futureResult.cascade(to: each) }
            promise = shared
        }
        context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: promise)
    }
}

@available(*, unavailable)
extension WriteCoalescingHandler: Sendable {}
