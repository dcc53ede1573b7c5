import NIOHTTP1
import Testing

@testable import ProxyServer

/// The framing checks made on a request's head, spelled as a client may spell them.
struct RequestFramingTests {
    @Test(arguments: [
        (["Transfer-Encoding": "chunked"], false),
        (["transfer-encoding": "CHUNKED"], false),
        (["Content-Length": "5"], false),
        (["Transfer-Encoding": "gzip, chunked"], true),
        (["Transfer-Encoding": "chunked, chunked"], true),
        (["Transfer-Encoding": "identity"], true),
        (["Transfer-Encoding": "x-custom"], true),
    ])
    func onlyOneChunkedIsDecoded(headers: [String: String], refused: Bool) {
        let fields = HTTPHeaders(headers.map { ($0.key, $0.value) })
        #expect((RequestFraming.unsupportedTransferCoding(fields) != nil) == refused)
    }

    @Test func chunkedNamedInTwoFieldsIsChunkedTwice() {
        let fields = HTTPHeaders([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")])
        #expect(RequestFraming.unsupportedTransferCoding(fields) != nil)
    }

    @Test(
        arguments: [
            ("0", 0),
            ("9223372036854775807", Int.max),
            ("9223372036854775808", Int.max),
            ("18446744073709551615", Int.max),
            ("-1", nil),
            ("1e3", nil),
            ("", nil),
        ] as [(String, Int?)]
    )
    func aLengthTooLargeForAnIntIsTheLargestLength(value: String, length: Int?) {
        #expect(RequestFraming.declaredLength(["Content-Length": value]) == length)
    }
}
