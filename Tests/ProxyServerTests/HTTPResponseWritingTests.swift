import NIOHTTP1
import Testing

@testable import ProxyServer

/// Headers that describe one hop are dropped on the way through, in any spelling; the others pass untouched.
struct HTTPResponseWritingTests {
    @Test func hopByHopHeadersAreDroppedWhateverTheirCase() {
        let client = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/t/oauth2/v2.0/token",
            headers: [
                "Host": "login.microsoftonline.com", "Proxy-Authorization": "Bearer maker", "CONNECTION": "keep-alive",
                "Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded", "TE": "trailers",
                "Content-Length": "99", "x-ms-client-request-id": "abc",
            ]
        )
        let upstream = HTTPResponseWriting.upstreamHead(
            from: client,
            uri: client.uri,
            host: "login.microsoftonline.com",
            bodyLength: 12
        )
        #expect(upstream.headers.map(\.name) == ["Content-Type", "x-ms-client-request-id", "host", "content-length"])
        #expect(upstream.headers["content-length"] == ["12"])
    }

    @Test func answersWithoutHopByHopHeadersPassUnchanged() {
        let headers: HTTPHeaders = [
            "content-type": "application/json", "cache-control": "no-store", "x-ms-request-id": "1",
        ]
        #expect(HTTPResponseWriting.forwardable(headers) == headers)
        let framed: HTTPHeaders = [
            "content-type": "application/json", "Content-Length": "10", "Keep-Alive": "timeout=5",
        ]
        #expect(HTTPResponseWriting.forwardable(framed) == ["content-type": "application/json"])
    }

    @Test func namesThatOnlyResembleHopByHopOnesAreKept() {
        for name in ["connections", "te2", "x-connection", "content-lengths", "upgrade-insecure-requests"] {
            #expect(!HTTPResponseWriting.isHopByHop(name))
        }
        for name in HTTPResponseWriting.hopByHop {
            #expect(HTTPResponseWriting.isHopByHop(name.description.uppercased()))
        }
    }
}
