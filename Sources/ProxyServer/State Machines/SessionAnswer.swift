import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1

/// A whole response for the client of an intercepted session.
struct SessionAnswer: Equatable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer?
    /// What the `Connection` header says; false also closes the connection once written.
    var keepAlive: Bool
    /// Close once written, whatever `keepAlive` says (the client half-closed).
    var closesConnection = false
    /// When the token exchange this answers began, for its latency; nil for other answers.
    var exchangeStarted: NIODeadline?
    /// The upstream's `Content-Length`, which the answer to a HEAD states without a body.
    var upstreamLength: String?
}

extension SessionAnswer {
    /// An answer of the proxy's own, kept open for the next request unless told otherwise.
    init(_ own: ProxyAnswer, keepAlive: Bool = true) {
        self.init(status: own.status, headers: own.headers, body: ByteBuffer(bytes: own.body), keepAlive: keepAlive)
    }

    /// The STS's answer as the client gets it: hop-by-hop headers gone.
    init(forwarding response: NIOHTTPClientResponseFull, keepAlive: Bool) {
        self.init(
            status: response.head.status,
            headers: HTTPResponseWriting.forwardable(response.head.headers),
            body: response.body,
            keepAlive: keepAlive
        )
        upstreamLength = response.head.headers.first(name: "content-length")
    }

    /// SPEC 4's error body, with the correlation ID and time of the event that answers.
    static func error(
        _ status: HTTPResponseStatus,
        _ code: String,
        _ description: String,
        stamp: EventStamp,
        correlationID: UUID? = nil,
        keepAlive: Bool
    ) -> SessionAnswer {
        SessionAnswer(
            .error(status, code, description, correlationID: correlationID ?? stamp.correlationID, at: stamp.date),
            keepAlive: keepAlive
        )
    }
}

extension SessionAnswer {
    /// A resource host's refusal told as an answer withheld: the request reached the resource before the change.
    func withheld() -> SessionAnswer {
        guard let body, let told = ResourceRefusalBody.withheld(Array(body.readableBytesView)) else { return self }
        var answer = self
        answer.body = ByteBuffer(bytes: told)
        return answer
    }
}
