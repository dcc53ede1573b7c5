import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// A message gathered whole goes on with a length: its trailer fields are not made headers of it.
struct HTTPMessageGathererTests {
    @Test func trailerFieldsAreDiscardedNotMergedIntoTheHeaders() {
        var gatherer = HTTPMessageGatherer<HTTPResponseHead>(limit: 1024)
        let head = HTTPResponseHead(
            version: .http1_1,
            status: .ok,
            headers: ["Content-Type": "application/json", "Transfer-Encoding": "chunked", "Trailer": "x-ms-token"]
        )
        _ = gatherer.receive(.head(head))
        _ = gatherer.receive(.body(ByteBuffer(string: "{}")))
        let outcome = gatherer.receive(.end(["x-ms-token": "eyJ.a-token.x", "Set-Cookie": "token=eyJ.b.c"]))
        guard case .complete(let gathered, let body) = outcome else {
            Issue.record("the message is whole: \(outcome)")
            return
        }
        #expect(body.map { String(buffer: $0) } == "{}")
        #expect(!gathered.headers.contains(name: "x-ms-token"))
        #expect(!gathered.headers.contains(name: "set-cookie"))
        #expect(!gathered.headers.contains(name: "trailer"))
        #expect(gathered.headers["content-type"] == ["application/json"])
    }
}
