import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import ProxyServer

/// One shape for every answer of the proxy's own, on either path it is written.
struct ProxyAnswerTests {
    @Test func theRawFormIsAWholeHTTPResponseWithTheErrorBody() throws {
        let correlation = UUID()
        let answer = ProxyAnswer.error(
            .serviceUnavailable,
            "proxy_busy",
            "full",
            correlationID: correlation,
            extraHeaders: [.init(name: "retry-after", value: "1")]
        )
        let text = String(buffer: answer.serialized(allocator: ByteBufferAllocator()))
        let (head, body) = try #require(text.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init).pair)
        let lines = head.split(separator: "\r\n").map(String.init)
        #expect(lines.first == "HTTP/1.1 503 Service Unavailable")
        #expect(lines.contains("retry-after: 1"))
        #expect(lines.contains("connection: close"))
        #expect(lines.contains("content-length: \(body.utf8.count)"))
        #expect(lines.contains { $0.hasPrefix("content-type: application/json") })
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(json["error"] as? String == "proxy_busy")
        #expect(json["error_description"] as? String == "TenantGate: full")
        #expect(json["correlation_id"] as? String == correlation.uuidString.lowercased())
        #expect(json["timestamp"] is String)
    }
}

extension Array {
    fileprivate var pair: (Element, Element)? { count == 2 ? (self[0], self[1]) : nil }
}
