import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// What is judged is what the client gets: a gzip answer is decoded whatever `identity` is named beside it.
struct ResponseCodingTests {
    /// `{"error":"invalid_grant"}`, gzipped.
    static let gzipped: [UInt8] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xab, 0x56, 0x4a, 0x2d, 0x2a, 0xca, 0x2f, 0x52,
        0xb2, 0x52, 0xca, 0xcc, 0x2b, 0x4b, 0xcc, 0xc9, 0x4c, 0x89, 0x4f, 0x2f, 0x4a, 0xcc, 0x2b, 0x51, 0xaa, 0x05,
        0x00, 0x92, 0xb8, 0x6a, 0x00, 0x19, 0x00, 0x00, 0x00,
    ]

    @Test(arguments: [["gzip"], ["identity, gzip"], ["identity", "GZIP"], ["gzip", "identity"]])
    func aGzipBodyIsDecodedWhateverIdentityIsNamedBesideIt(_ codings: [String]) throws {
        var headers = HTTPHeaders()
        for coding in codings { headers.add(name: "Content-Encoding", value: coding) }
        let response = NIOHTTPClientResponseFull(
            head: HTTPResponseHead(version: .http1_1, status: .badRequest, headers: headers),
            body: ByteBuffer(bytes: Self.gzipped)
        )
        let decoded = try ResponseCoding.decoded(response, limit: 1 << 20).get()
        #expect(decoded.body.map { String(buffer: $0) } == #"{"error":"invalid_grant"}"#)
        #expect(!decoded.head.headers.contains(name: "content-encoding"))
    }
}
