import NIOCore
import NIOHTTP1

/// The HTTP decoders of the proxy's connections, each bounded in the bytes it may hold unparsed.
///
/// NIO's decoder parses whatever it is given, except after a message that switches protocols (a request with
/// `Upgrade`, a CONNECT, a 101 answer): it then keeps every later byte until it leaves the pipeline. Unbounded, a
/// client that sent an upgrade request and went on sending filled 4 GiB in ten seconds and stopped the process
/// (a `ByteBuffer`'s capacity is 32 bits). Past the bound the decoder fails (`PayloadTooLargeError`) and the
/// connection closes.
enum HTTPDecoding {
    /// What a client may send past a switching request before it is answered: a WebSocket's first frames, at most.
    static let maxUnparsedRequestBytes = 256 << 10
    /// What an upstream may send past a 101 before the splice takes it.
    static let maxUnparsedResponseBytes = 1 << 20

    static func requestDecoder(
        leftOverBytes strategy: RemoveAfterUpgradeStrategy
    ) -> ByteToMessageHandler<ClientRequestDecoder> {
        ByteToMessageHandler(ClientRequestDecoder(leftOverBytes: strategy), maximumBufferSize: maxUnparsedRequestBytes)
    }

    static func responseDecoder(
        leftOverBytes strategy: RemoveAfterUpgradeStrategy,
        boundary: AnswerBoundary
    ) -> ByteToMessageHandler<UpstreamResponseDecoder> {
        ByteToMessageHandler(
            UpstreamResponseDecoder(leftOverBytes: strategy, boundary: boundary),
            maximumBufferSize: maxUnparsedResponseBytes
        )
    }
}

/// NIO's request decoder, but for the client's FIN: bytes that followed a CONNECT in the same read as the FIN go on
/// to the next stage, as they do without a FIN. NIO drops them at EOF (it cannot tell an upgrade's end from a cut
/// one); after a CONNECT the FIN is the proxy's to judge (`ProxyRequestHandler`), and a tunnel passes it on after
/// the bytes.
final class ClientRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart

    private let decoder: HTTPRequestDecoder

    init(leftOverBytes strategy: RemoveAfterUpgradeStrategy) {
        decoder = HTTPRequestDecoder(leftOverBytesStrategy: strategy)
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        try decoder.decode(context: context, buffer: &buffer)
    }

    /// Only into a `RawBytesHold`, which a CONNECT's end puts right behind this decoder: anywhere else raw bytes
    /// would reach a handler that reads HTTP parts, and trap it.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let holdFollows = (try? context.pipeline.syncOperations.handler(type: RawBytesHold.self)) != nil
        return try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF && !holdFollows)
    }
}
