import NIOCore
import Plumbing

/// At most `perClient` admin connections from one address: the listener serves 256 at once, and one client that
/// opens them all (a trickle of bytes on each) would leave none for the health probes, which come from elsewhere.
/// The connection beyond the cap is closed as soon as it is active.
package final class PerClientConnectionLimit: Sendable {
    package static let perClient = 16

    private let open = Locked([String: Int]())
    private let limit: Int

    package init(limit: Int = PerClientConnectionLimit.perClient) {
        self.limit = limit
    }

    /// A new handler for each connection.
    func handler() -> Handler { Handler(limit: self) }

    fileprivate func admit(_ address: String) -> Bool {
        open.withLock { open in
            let mine = open[address, default: 0]
            guard mine < limit else { return false }
            open[address] = mine + 1
            return true
        }
    }

    fileprivate func release(_ address: String) {
        open.withLock { open in
            let mine = open[address, default: 1] - 1
            open[address] = mine > 0 ? mine : nil
        }
    }

    final class Handler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        private let limit: PerClientConnectionLimit
        private var admitted: String?

        fileprivate init(limit: PerClientConnectionLimit) {
            self.limit = limit
        }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { admit(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            admit(context)
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let admitted { limit.release(admitted) }
            admitted = nil
            context.fireChannelInactive()
        }

        private func admit(_ context: ChannelHandlerContext) {
            guard admitted == nil else { return }
            let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
            guard limit.admit(address) else { return context.close(promise: nil) }
            admitted = address
        }
    }
}

@available(*, unavailable)
extension PerClientConnectionLimit.Handler: Sendable {}
