import NIOCore
import NIOHTTP1

/// The body of one HTTP message gathered into one buffer, refusing to grow past a limit (SPEC 5: every buffer has
/// a limit). The handlers that consume whole messages gather them themselves rather than behind NIO's
/// aggregators: one handler fewer on every part, and the whole message is never boxed into a `NIOAny`.
struct BoundedBody {
    let limit: Int
    private(set) var buffer: ByteBuffer?

    init(limit: Int) {
        self.limit = limit
    }

    /// Why a request's head already refuses its body, if it does (answer before reading the body): a transfer coding
    /// the proxy does not decode, or a declared length over the limit.
    func refusal(of headers: HTTPHeaders) -> (status: HTTPResponseStatus, reason: String)? {
        if let problem = RequestFraming.unsupportedTransferCoding(headers) { return (.notImplemented, problem) }
        return refuses(declaredLength: headers) ? (.payloadTooLarge, "the request body exceeds the limit") : nil
    }

    /// Whether a declared `Content-Length` already exceeds the limit (answer before reading the body).
    func refuses(declaredLength headers: HTTPHeaders) -> Bool {
        RequestFraming.declaredLength(headers).map { $0 > limit } ?? false
    }

    /// Appends `part`; false, and nothing appended, when the body would exceed the limit.
    mutating func append(_ part: ByteBuffer) -> Bool {
        guard part.readableBytes <= limit - (buffer?.readableBytes ?? 0) else { return false }
        guard var gathered = buffer else {
            buffer = part
            return true
        }
        // Let go of the stored buffer first, so that appending to it copies nothing.
        buffer = nil
        var part = part
        gathered.writeBuffer(&part)
        buffer = gathered
        return true
    }
}
