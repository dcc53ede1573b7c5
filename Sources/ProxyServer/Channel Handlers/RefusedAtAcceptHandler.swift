import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy

/// The only handler of a connection that `ClientAdmission` did not admit: answers before reading anything and
/// closes, so a flood of connections costs the proxy one small write each. A client outside `--allow-client` gets
/// 403 and a `clientPolicy` audit line; a connection beyond the proxy's cap or its address's cap gets 503.
final class RefusedAtAcceptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let verdict: ClientAdmission.Verdict
    /// The connection's client, for the refusal's line.
    private let client: IPAddress?
    private let shared: ProxyContext
    private var answered = false

    init(_ verdict: ClientAdmission.Verdict, client: IPAddress?, shared: ProxyContext) {
        self.verdict = verdict
        self.client = client
        self.shared = shared
    }

    /// Added to a connection already active (after a balancer's PROXY protocol header), it answers at once.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context: context)
    }

    private func refuse(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        switch verdict {
        case .refused(let reason):
            let refusal = ConnectionRefusal(host: "", creator: nil, setting: .clientPolicy, reason: reason)
            SessionHandover.refuse(refusal, client: client, shared: shared, context: context) { correlationID in
                self.answer(.error(.forbidden, "forbidden", reason, correlationID: correlationID), context)
            }
        case .proxyFull:
            answer(Self.busy("the proxy serves its maximum number"), context)
        case .clientFull:
            answer(Self.busy("this client address holds its maximum number"), context)
        case .admitted:
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private static func busy(_ who: String) -> ProxyAnswer {
        .error(
            .serviceUnavailable,
            "proxy_busy",
            "\(who) of connections; try again later",
            extraHeaders: [.init(name: "retry-after", value: "1")]
        )
    }

    /// Written as bytes: nothing of HTTP is in this pipeline.
    private func answer(_ answer: ProxyAnswer, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(answer.serialized(allocator: context.channel.allocator)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

@available(*, unavailable)
extension RefusedAtAcceptHandler: Sendable {}
