import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPCompression

/// How an intercepted answer's body is encoded. TenantGate asks for `identity`; a `gzip` or `deflate` body that
/// comes anyway is decoded (within the inspection limit) before it is judged and passed on decoded; any other
/// coding (`br`, `zstd`, stacked codings) cannot be read.
enum ResponseCoding: Equatable {
    case plain
    /// `gzip` or `deflate`, the one coding besides any `identity`.
    case decodable(String)
    case undecodable(String)

    init(_ headers: HTTPHeaders) {
        // Nearly every answer has no Content-Encoding: no allocation for them.
        guard headers.contains(name: "content-encoding") else {
            self = .plain
            return
        }
        let codings = headers[canonicalForm: "content-encoding"].map { $0.lowercased() }.filter { $0 != "identity" }
        switch codings {
        case []: self = .plain
        case ["gzip"], ["deflate"]: self = .decodable(codings[0])
        default: self = .undecodable(String(codings.joined(separator: ", ").prefix(64)))
        }
    }

    /// `response` with a `gzip`/`deflate` body decoded and its `Content-Encoding` gone; others as they are.
    /// Decoding runs NIO's decompressor on an embedded channel, off the path of the answers that need none.
    static func decoded(
        _ response: NIOHTTPClientResponseFull,
        limit: Int
    ) -> Result<NIOHTTPClientResponseFull, UpstreamError> {
        guard case .decodable(let coding) = ResponseCoding(response.head.headers) else { return .success(response) }
        let channel = EmbeddedChannel(handler: NIOHTTPResponseDecompressor(limit: .size(limit)))
        defer { _ = try? channel.finish() }
        var body = channel.allocator.buffer(capacity: 0)
        // The decompressor reads the first coding named: `identity, gzip` would pass the gzip body on undecoded, and
        // then unlabelled, as if it were plain.
        var head = response.head
        head.headers.replaceOrAdd(name: "content-encoding", value: coding)
        do {
            try channel.writeInbound(HTTPClientResponsePart.head(head))
            if let compressed = response.body { try channel.writeInbound(HTTPClientResponsePart.body(compressed)) }
            try channel.writeInbound(HTTPClientResponsePart.end(nil))
            while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
                if case .body(var chunk) = part { body.writeBuffer(&chunk) }
            }
        } catch {
            return .failure(UpstreamError.from(error))
        }
        guard body.readableBytes <= limit else { return .failure(.responseTooLarge) }
        var decoded = response
        decoded.head.headers.remove(name: "content-encoding")
        decoded.body = body
        return .success(decoded)
    }
}
