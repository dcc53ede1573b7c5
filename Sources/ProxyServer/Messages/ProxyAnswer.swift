import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import Plumbing

/// An answer of the proxy's own (400, 403, 407, 408, 413, 502, 503, 504): a status, a JSON body (SPEC 4's error
/// body, or the blocked exchange's), and the few headers some carry. Made here and written by `write` through the
/// HTTP encoder, or by `serialized` as bytes where no encoder is (at accept, below an intercepted session's).
struct ProxyAnswer: Equatable {
    struct Header: Equatable {
        let name: String
        let value: String
    }

    let status: HTTPResponseStatus
    let body: Data
    /// `proxy-authenticate` on a 407, `retry-after` on a 503 at accept.
    var extraHeaders: [Header] = []

    /// SPEC 4's error body: `error`, `error_description` (prefixed "TenantGate: "), `correlation_id`, `timestamp`.
    /// The state machines pass the correlation ID and time their event brought; handlers take the defaults.
    static func error(
        _ status: HTTPResponseStatus,
        _ code: String,
        _ description: String,
        correlationID: UUID = .random(),
        at time: Date = Date(),
        extraHeaders: [Header] = []
    ) -> ProxyAnswer {
        ProxyAnswer(
            status: status,
            body: ProxyErrorBody(
                error: code,
                description: description,
                correlationID: correlationID,
                timestamp: time
            ).json(),
            extraHeaders: extraHeaders
        )
    }

    /// A refused token exchange, with Entra's error shape (SPEC 4).
    static func blocked(_ body: BlockedResponseBody) -> ProxyAnswer {
        ProxyAnswer(status: .forbidden, body: body.json())
    }

    var headers: HTTPHeaders {
        var headers = HTTPResponseWriting.jsonHeaders
        for header in extraHeaders { headers.add(name: header.name, value: header.value) }
        return headers
    }

    /// Through the HTTP response encoder.
    func write(
        keepAlive: Bool,
        context: ChannelHandlerContext,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        HTTPResponseWriting.write(
            status: status,
            headers: headers,
            body: context.channel.allocator.buffer(bytes: body),
            keepAlive: keepAlive,
            context: context,
            wrap: wrap
        )
    }

    /// The whole response as bytes, for a channel with no response encoder in place; it is the connection's last.
    func serialized(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 200 + body.count)
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        for (name, value) in headers { buffer.writeString("\(name): \(value)\r\n") }
        buffer.writeString("content-length: \(body.count)\r\nconnection: close\r\n\r\n")
        buffer.writeBytes(body)
        return buffer
    }
}
