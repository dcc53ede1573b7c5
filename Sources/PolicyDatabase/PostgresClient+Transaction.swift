import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction` that throws the error which stopped the transaction rather than postgres-nio's wrapper of
    /// it: a refusal thrown by the body (a failed If-Match, an invalid change) reaches the admin API as itself, and
    /// a lost connection is recognised as the database's. With `limit`, the connection is closed when the
    /// transaction outlasts it (`StoreDeadline.watchdog`): before its COMMIT was sent it rolls back, and the error is
    /// `PolicyDatabase.TimedOut`; after, whether it was made is unknown (a COMMIT waiting on a synchronous standby
    /// stands once it is done), and the error is `PolicyDatabase.CommitUnconfirmed` (review 24).
    func transaction<Result>(
        logger: Logger,
        within limit: Duration? = nil,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        guard let limit else { return try await unlimitedTransaction(logger: logger, body) }
        return try await withConnection { connection in
            let watchdog = StoreDeadline.watchdog(connection, limit: limit)
            defer { watchdog.task.cancel() }
            var committing = false
            do {
                try await connection.query("BEGIN", logger: logger)
                let result = try await body(connection)
                committing = true
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                if watchdog.fired() {
                    if committing { throw PolicyDatabase.CommitUnconfirmed(after: limit) }
                    throw PolicyDatabase.TimedOut(after: limit)
                }
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private func unlimitedTransaction<Result>(
        logger: Logger,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        do {
            return try await withTransaction(logger: logger, body)
        } catch let error as PostgresTransactionError {
            throw error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError ?? error
        }
    }
}
