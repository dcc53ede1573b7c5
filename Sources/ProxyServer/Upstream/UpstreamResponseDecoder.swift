import NIOCore
import NIOHTTP1

/// Whether an upstream connection owes an answer: from a request's head written until its answer's end.
final class AnswerBoundary {
    var awaitsAnswer = false
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
final class UpstreamResponseDecoder: WriteObservingByteToMessageDecoder {
    typealias InboundOut = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart

    static let unsolicited = UpstreamError(
        code: .malformedResponse,
        detail: "the upstream server sent bytes beyond its answer"
    )

    private let decoder: HTTPResponseDecoder
    private let boundary: AnswerBoundary

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
        if case .head = data { boundary.awaitsAnswer = true }
        decoder.write(data: data)
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard boundary.awaitsAnswer else { throw Self.unsolicited }
        let state = try decoder.decode(context: context, buffer: &buffer)
        if !boundary.awaitsAnswer, buffer.readableBytes > 0 { throw Self.unsolicited }
        return state
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }
}
