import NIOCore
import Testing

@testable import Shipping

/// A sink's error answer is quoted in the shipper's log without the secrets the request carried (review 47 F3: an
/// OTLP receiver echoing `POST /v1/logs?api_key=…` put the key in the log).
struct SinkAnswerQuoteTests {
    @Test func aQueryKeyEchoedByTheReceiverIsHidden() {
        let url = "https://collector.example/v1/logs?api_key=APIKEY-CANARY-4711&tenant=x"
        let echoed = ByteBuffer(string: "bad request: POST /v1/logs?api_key=APIKEY-CANARY-4711&tenant=x HTTP/1.1")
        let quoted = SinkAnswerQuote.quote(echoed, hiding: SinkAnswerQuote.querySecrets(of: url))
        #expect(!quoted.contains("APIKEY-CANARY-4711"), "\(quoted)")
        #expect(quoted.hasPrefix("bad request: POST /v1/logs?"))
    }

    @Test func aSecretAtTheCutIsHiddenWhole() {
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-part"
        let answer = ByteBuffer(string: String(repeating: "x", count: 180) + "Bearer " + token)
        let quoted = SinkAnswerQuote.quote(answer, hiding: [token])
        #expect(!quoted.contains("eyJ0eXAi"), "\(quoted)")
        #expect(quoted.count <= SinkAnswerQuote.length)
    }

    /// Splunk's `text` is quoted too: a gateway in front of it may echo the request's `Authorization` there.
    @Test func aSplunkTokenEchoedInTheAnswersTextIsHidden() {
        let quoted = SinkAnswerQuote.quote(
            "unauthorized: Authorization: Splunk 1b2c3d4e-token",
            hiding: ["1b2c3d4e-token"]
        )
        #expect(quoted == "unauthorized: Authorization: Splunk ***")
    }
}
