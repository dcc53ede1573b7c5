import Plumbing

/// At most one log line per `interval` for an event a client can cause at will (a refused leaf mint names a host
/// the client chose): the first is logged, later ones are counted and the count goes with the next line. Without
/// it, one client wrote 1,300 lines a second to standard error.
final class LogThrottle: Sendable {
    private struct State {
        var lastLogged: ContinuousClock.Instant?
        var suppressed = 0
    }

    private let interval: Duration
    private let state = Locked(State())

    init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Whether to log this occurrence, and how many went unlogged since the last line; nil: count it only.
    func occurred(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLock { state in
            if let last = state.lastLogged, now - last < interval {
                state.suppressed += 1
                return nil
            }
            defer { state.suppressed = 0 }
            state.lastLogged = now
            return state.suppressed
        }
    }
}
