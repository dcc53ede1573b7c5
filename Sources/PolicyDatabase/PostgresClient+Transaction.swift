import Logging
import PostgresNIO

extension PostgresClient {
    /// `withTransaction` that throws the error which stopped the transaction rather than postgres-nio's wrapper of
    /// it: a refusal thrown by the body (a failed If-Match, an invalid change) reaches the admin API as itself, and
    /// a lost connection is recognised as the database's.
    func transaction<Result>(
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
