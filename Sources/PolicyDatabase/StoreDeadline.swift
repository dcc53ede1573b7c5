import Plumbing
import PostgresNIO

/// How long the store may take to answer. A silent peer (a partition that resets nothing, a frozen server) answers no
/// query and closes nothing, so nothing fails by itself: review 19 saw an instance report the store reachable, and
/// allow a tenant another instance had blocked, for as long as the partition lasted, and an admin write get no answer
/// at all and then be applied after its caller gave up.
enum StoreDeadline {
    static let answer = Duration.seconds(5)

    /// `operation`'s result, or `PolicyDatabase.TimedOut` after `limit`, without waiting for it to finish (a task
    /// group would: a query on a silent connection never returns by itself). The operation is cancelled.
    static func within<T: Sendable>(
        _ limit: Duration = answer,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let waiting = Locked<CheckedContinuation<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { continuation in
            waiting.withLock { $0 = continuation }
            let timer = Task {
                try await Task.sleep(for: limit)
                waiting.withLock { $0.take() }?.resume(throwing: PolicyDatabase.TimedOut(after: limit))
            }
            Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                timer.cancel()
                waiting.withLock { $0.take() }?.resume(with: result)
            }
        }
    }

    /// Closes `connection` if the work on it outlasts `limit`, which fails every query waiting on it, so a change's
    /// transaction on a silent connection ends (and rolls back) instead of committing whenever the peer wakes.
    /// Cancel the returned task once the work is done; `fired` says whether it closed the connection.
    static func watchdog(
        _ connection: PostgresConnection,
        limit: Duration = answer
    ) -> (task: Task<Void, Never>, fired: @Sendable () -> Bool) {
        let fired = Locked(false)
        let task = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            fired.withLock { $0 = true }
            try? await connection.close()
        }
        return (task, { fired.withLock { $0 } })
    }
}
