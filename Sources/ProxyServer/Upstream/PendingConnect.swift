import NIOCore
import Synchronization

/// The upstream connect a plain request waits on, so that a client that hangs up takes it along: else each such
/// client left a descriptor behind for the whole connect timeout (review 41 F2). A connection already made is the
/// pool's to keep or close; only one still connecting is ended.
final class PendingConnect: Sendable {
    private enum State {
        case waiting
        case connecting(any Channel)
        case abandoned
        case settled
    }

    private let state = Mutex(State.waiting)

    /// The pool's channel for the request, before it connects; closed at once if its client has gone.
    func started(_ channel: any Channel) {
        let abandoned = state.withLock { state in
            if case .abandoned = state { return true }
            state = .connecting(channel)
            return false
        }
        if abandoned { channel.close(promise: nil) }
    }

    /// The connect succeeded or failed: nothing is held any more.
    func settled() {
        state.withLock { $0 = .settled }
    }

    /// The client hung up: a connect still under way ends now, and one not started yet ends as it starts.
    func abandon() {
        let connecting: (any Channel)? = state.withLock { state in
            defer { state = .abandoned }
            if case .connecting(let channel) = state { return channel }
            return nil
        }
        if let connecting, !connecting.isActive { connecting.close(promise: nil) }
    }
}
