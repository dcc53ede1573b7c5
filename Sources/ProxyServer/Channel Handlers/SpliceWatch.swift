import ExchangePolicy
import NIOCore
import NIOHTTP1
import PolicyFiles
import PolicyService

/// Keeps a spliced WebSocket judged. Its connections carry no more requests, so its upgrade request is judged
/// again (`SplicedUpgrade`) as the splice begins (the policy may have changed while the upstream took its time to
/// switch: review 27 held an upgrade's last byte until its rule was deleted), then each second when the policy
/// version changed or its creator's grant ended (a maker token expired). Refused, both connections end at once and
/// the refusal is audited; still allowed, the splice goes on, audited as a token's first request under a new
/// version is. Lives on the client's loop.
final class SpliceWatch {
    /// How often a spliced session checks that what judged it still stands.
    static let interval = TimeAmount.seconds(1)

    private let upgrade: HTTPRequestHead
    private let session: InterceptedSession
    private let shared: ProxyContext
    private let client: any Channel
    private let upstream: any Channel
    /// The policy version the upgrade was last judged under; nil before the splice's first judgement.
    private var judgedUnder: String?
    private(set) var ended = false

    init(
        upgrade: HTTPRequestHead,
        session: InterceptedSession,
        shared: ProxyContext,
        client: any Channel,
        upstream: any Channel
    ) {
        self.upgrade = upgrade
        self.session = session
        self.shared = shared
        self.client = client
        self.upstream = upstream
    }

    /// Judges the splice now, then each `interval` until either connection closes.
    /// - Returns: whether it stands now.
    func start() -> Bool {
        check()
        guard !ended else { return false }
        let watch = NIOLoopBound(self, eventLoop: client.eventLoop)
        let repeated = client.eventLoop.scheduleRepeatedTask(initialDelay: Self.interval, delay: Self.interval) {
            task in
            watch.value.check()
            if watch.value.ended { task.cancel() }
        }
        client.closeFuture.whenComplete { _ in repeated.cancel() }
        return true
    }

    /// Judges the upgrade again unless nothing that judged it changed.
    private func check() {
        let current = shared.policies.current()
        guard current.bundle.version != judgedUnder || session.creator.tenant == nil else { return }
        judgedUnder = current.bundle.version
        switch SplicedUpgrade.judge(upgrade, session: session, decider: current.decider, at: .now()) {
        case .stands(nil):
            break
        case .stands(let line?):
            // Nothing goes on unaudited: a line that cannot be written ends the splice.
            shared.recordAudit(line, client: session.client, on: client.eventLoop) {
                if case .failure = $0 { self.end() }
            }
        case .ends(let line, _):
            end()
            if let line { shared.recordAudit(line, client: session.client, on: client.eventLoop) { _ in } }
        }
    }

    private func end() {
        ended = true
        client.close(promise: nil)
        upstream.close(promise: nil)
    }
}

@available(*, unavailable)
extension SpliceWatch: Sendable {}
