import ExchangePolicy
import Foundation
import NIOCore

/// The only handler of a connection that `ClientAdmission` did not admit: answers before reading anything and
/// closes, so a flood of connections costs the proxy one small write each. A client outside `--allow-client` gets
/// 403 and a `clientPolicy` audit line; a connection beyond the proxy's cap or its address's cap gets 503.
final class RefusedAtAcceptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let verdict: ClientAdmission.Verdict
    private let shared: ProxyContext

    init(_ verdict: ClientAdmission.Verdict, shared: ProxyContext) {
        self.verdict = verdict
        self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        switch verdict {
        case .refused(let reason):
            let refusal = ConnectionRefusal(host: "", creator: nil, setting: .clientPolicy, reason: reason)
            SessionHandover.refuse(refusal, shared: shared, context: context) {
                let body = ProxyErrorBody(error: "forbidden", description: reason, correlationID: refusal.correlationID)
                self.answer(status: "403 Forbidden", body: body.json(), context: context)
            }
        case .proxyFull:
            answer(
                status: "503 Service Unavailable",
                body: Self.busy("the proxy serves its maximum number"),
                context: context
            )
        case .clientFull:
            answer(
                status: "503 Service Unavailable",
                body: Self.busy("this client address holds its maximum number"),
                context: context
            )
        case .admitted:
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private static func busy(_ who: String) -> Data {
        Data(#"{"error":"proxy_busy","error_description":"\#(who) of connections; try again later"}"#.utf8)
    }

    private func answer(status: String, body: Data, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 160 + body.count)
        buffer.writeString(
            "HTTP/1.1 \(status)\r\ncontent-type: application/json\r\ncontent-length: \(body.count)\r\n"
                + (status.hasPrefix("503") ? "retry-after: 1\r\n" : "") + "connection: close\r\n\r\n"
        )
        buffer.writeBytes(body)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension RefusedAtAcceptHandler: Sendable {}
