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
    ) -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(
            HTTPRequestDecoder(leftOverBytesStrategy: strategy),
            maximumBufferSize: maxUnparsedRequestBytes
        )
    }

    static func responseDecoder(
        leftOverBytes strategy: RemoveAfterUpgradeStrategy
    ) -> ByteToMessageHandler<HTTPResponseDecoder> {
        ByteToMessageHandler(
            HTTPResponseDecoder(leftOverBytesStrategy: strategy),
            maximumBufferSize: maxUnparsedResponseBytes
        )
    }
}
