import Foundation
import NIOCore
import NIOHTTP1
import TokenInspection

/// Writes whole responses on a server-side HTTP channel (forwarded answers, and `ProxyAnswer`s), and shapes the
/// headers that cross the proxy.
enum HTTPResponseWriting {
    /// The interim answer to a client that waits for it before it sends its body (`Expect: 100-continue`).
    static let continueHead = HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .continue))

    /// Headers that describe one hop and must not be forwarded (RFC 9110 7.6.1), plus framing we recompute.
    static let hopByHop: [StaticString] = [
        "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
        "trailer", "transfer-encoding", "upgrade", "content-length",
    ]

    /// - Parameter headLength: for the answer to a HEAD, which is its head alone on the wire (RFC 9110 9.3.2), the
    ///   length the head states: the upstream's, or that of the body not sent.
    static func write(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer?,
        keepAlive: Bool,
        headLength: String? = nil,
        answersHead: Bool = false,
        context: ChannelHandlerContext,
        wrap: (HTTPServerResponsePart) -> NIOAny
    ) -> EventLoopFuture<Void> {
        var headers = headers
        let length = answersHead ? headLength ?? String(body?.readableBytes ?? 0) : String(body?.readableBytes ?? 0)
        headers.replaceOrAdd(name: "content-length", value: length)
        if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrap(.head(head)), promise: nil)
        if !answersHead, var body {
            // One TLS record's plaintext per flush: NIOSSL seals what one flush carries into a buffer it keeps, at
            // that size, until the connection writes again. A 200 KB answer flushed at once left 256 KiB held by
            // every idle session that got one (review 26: 800 sessions that never read held 280 MiB).
            while body.readableBytes > WriteCoalescingHandler.recordPlaintextLimit,
                let slice = body.readSlice(length: WriteCoalescingHandler.recordPlaintextLimit)
            {
                context.writeAndFlush(wrap(.body(.byteBuffer(slice))), promise: nil)
            }
            if body.readableBytes > 0 { context.write(wrap(.body(.byteBuffer(body))), promise: nil) }
        }
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrap(.end(nil)), promise: promise)
        return promise.futureResult
    }

    /// The headers of the proxy's own JSON answers.
    static let jsonHeaders = HTTPHeaders([
        ("content-type", "application/json"), ("cache-control", "no-store"),
    ])

    /// Upstream response headers made fit to forward.
    static func forwardable(_ headers: HTTPHeaders) -> HTTPHeaders {
        withoutHopByHop(headers)
    }

    /// One pass over the headers, and none copied when no hop-by-hop header is present: NIO's `remove(name:)`
    /// copied the headers and scanned them once per name, ten times per message.
    private static func withoutHopByHop(_ headers: HTTPHeaders) -> HTTPHeaders {
        guard headers.contains(where: { isHopByHop($0.name) }) else { return headers }
        var kept = HTTPHeaders()
        kept.reserveCapacity(headers.count)
        for (name, value) in headers where !isHopByHop(name) { kept.add(name: name, value: value) }
        return kept
    }

    /// Compared as bytes without ASCII case, so no lower-cased copy of the name is built.
    static func isHopByHop(_ name: String) -> Bool {
        hopByHop.contains { name.utf8.equalsIgnoringASCIICase($0) }
    }

    /// A client request made fit to send upstream: proxy headers removed, origin-form target, keep-alive.
    static func upstreamHead(from head: HTTPRequestHead, uri: String, host: String, bodyLength: Int) -> HTTPRequestHead
    {
        var headers = withoutHopByHop(head.headers)
        // RFC 9112 3.2.2: the Host a proxy sends is the target's own, whatever the client wrote.
        headers.replaceOrAdd(name: "host", value: host)
        if bodyLength > 0 || head.method == .POST || head.method == .PUT || head.method == .PATCH {
            headers.add(name: "content-length", value: String(bodyLength))
        }
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
    }
}
