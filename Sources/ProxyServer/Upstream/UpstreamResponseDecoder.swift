import NIOCore
import NIOHTTP1

/// Whether an upstream connection owes an answer: from a request's head written until its answer's end.
final class AnswerBoundary {
    var awaitsAnswer = false
    /// Whether the owed answer's final (not 1xx) head has reached the handler after the decoder.
    var headArrived = false
}

/// NIO's response decoder, for a connection that carries one request at a time: bytes the upstream sends while no
/// answer is owed end the connection. They are the start of an answer nobody asked for (a part of a second head,
/// a body on a 204 or 304), and on a kept connection the next request's answer, to another client, would begin
/// with them (review 22 saw them reach a client as a header). NIO's decoder emits nothing for a part of a head, so
/// the bytes left in its buffer once a read is parsed tell.
///
/// Checked after the decoder ran, never inside it: the answer's end is reported before the parser has moved past
/// what it consumed. The request's head is seen here on its way out, as NIO's decoder sees it (an answer to HEAD
/// has no body).
///
/// NIO's decoder drops interim (1xx) answers unseen, and each read of them is activity: an upstream that sent
/// `100 Continue` without end kept a core busy until the answer's deadline, and a streaming connection, whose
/// limit is silence, for ever. What an answer may spend on them before its head is bounded.
final class UpstreamResponseDecoder: WriteObservingByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart

    static let unsolicited = UpstreamError(
        code: .malformedResponse,
        detail: "the upstream server sent bytes beyond its answer"
    )

    /// Room for a few `103 Early Hints` with their `Link` headers, far below a flood.
    static let maxInterimBytes = 64 << 10
    static let interimFlood = UpstreamError(
        code: .malformedResponse,
        detail: "the upstream server sent more than 64 KiB of interim (1xx) answers"
    )

    private let decoder: HTTPResponseDecoder
    private let boundary: AnswerBoundary
    /// Bytes parsed for the owed answer while its head has not arrived.
    private var bytesBeforeHead = 0

    init(leftOverBytes strategy: RemoveAfterUpgradeStrategy, boundary: AnswerBoundary) {
        decoder = HTTPResponseDecoder(leftOverBytesStrategy: strategy)
        self.boundary = boundary
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }

    func write(data: HTTPClientRequestPart) {
        if case .head = data {
            boundary.awaitsAnswer = true
            boundary.headArrived = false
            bytesBeforeHead = 0
        }
        decoder.write(data: data)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard boundary.awaitsAnswer else { throw Self.unsolicited }
        let unparsed = buffer.readableBytes
        let state = try decoder.decode(context: context, buffer: &buffer)
        if !boundary.awaitsAnswer, buffer.readableBytes > 0 { throw Self.unsolicited }
        if !boundary.headArrived {
            bytesBeforeHead += unparsed - buffer.readableBytes
            if bytesBeforeHead > Self.maxInterimBytes { throw Self.interimFlood }
        }
        return state
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
