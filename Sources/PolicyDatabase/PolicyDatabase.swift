import Foundation
import Logging
import PolicyFiles
import PostgresNIO
import ServiceLifecycle

/// The policy documents in PostgreSQL: one row a document (the text of a policy file, by its file name), each
/// change one transaction with its `policy_changes` row. Runs the connection pool as a service.
package final class PolicyDatabase: Service, Sendable {
    package let url: PolicyStoreURL
    let client: PostgresClient
    let logger: Logger

    package init(url: PolicyStoreURL, logger: Logger) {
        self.url = url
        self.logger = logger
        client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger)
    }

    package func run() async {
        await client.run()
    }

    /// Brings the schema to `version` only: how a test makes a database of an earlier TenantGate.
    package func migrate(to version: Int) async throws {
        try await PolicySchema.migrate(client, to: version, logger: logger)
    }

    /// One stored document.
    package struct Document: Sendable, Equatable {
        package let name: String
        package let body: String
        /// The row version that holds this body (its `xmin`): any write of the row changes it, so comparing revisions
        /// tells what changed without reading or hashing bodies. Empty for a document not read from the store.
        package let revision: String

        package init(name: String, body: String, revision: String = "") {
            self.name = name
            self.body = body
            self.revision = revision
        }
    }

    /// Every document, by name.
    package func documents() async throws -> [Document] {
        try await StoreDeadline.within {
            try await Self.documents(
                self.client.query(
                    "SELECT name, body, xmin::text FROM tenantgate.policy_documents ORDER BY name",
                    logger: self.logger
                )
            )
        }
    }

    /// The named documents that exist; a name without a row has been deleted.
    func documents(named names: [String]) async throws -> [Document] {
        try await StoreDeadline.within {
            try await Self.documents(self.client.query(Self.documentsQuery(named: names), logger: self.logger))
        }
    }

    private static func documentsQuery(named names: [String]) -> PostgresQuery {
        "SELECT name, body, xmin::text FROM tenantgate.policy_documents WHERE name = ANY(\(names)) ORDER BY name"
    }

    private static let revisionsQuery: PostgresQuery = "SELECT name, xmin::text FROM tenantgate.policy_documents"

    private static func documents(_ rows: PostgresRowSequence) async throws -> [Document] {
        var documents: [Document] = []
        for try await (name, body, revision) in rows.decode((String, String, String).self) {
            documents.append(Document(name: name, body: body, revision: revision))
        }
        return documents
    }

    private static func revisions(_ rows: PostgresRowSequence) async throws -> [String: String] {
        var result: [String: String] = [:]
        for try await (name, revision) in rows.decode((String, String).self) { result[name] = revision }
        return result
    }

    /// How the store differs from `held` (each document's revision), as one snapshot: the documents added or changed,
    /// with their bodies, and the names no longer stored. Read in one repeatable-read transaction, so that a change
    /// made in one transaction (an import's deletes and inserts) is seen whole or not at all: read a notification at
    /// a time, an import that moved a tenant's document to another name left the tenant ungoverned in between, and
    /// put hundreds of versions that never existed in force (review 45 F1).
    package func snapshot(differingFrom held: [String: String]) async throws -> (changed: [Document], removed: [String])
    {
        // The deadline covers getting a connection too: in a silent partition the pool has none to give.
        try await StoreDeadline.within { [client, logger] in
            try await client.transaction(logger: logger, within: StoreDeadline.answer) { connection in
                try await connection.query(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                    logger: logger
                )
                let revisions = try await Self.revisions(connection.query(Self.revisionsQuery, logger: logger))
                let changed = revisions.filter { held[$0.key] != $0.value }.map(\.key)
                let removed = held.keys.filter { revisions[$0] == nil }.sorted()
                guard !changed.isEmpty else { return ([], removed) }
                let documents = try await Self.documents(
                    connection.query(Self.documentsQuery(named: changed), logger: logger)
                )
                return (documents, removed)
            }
        }
    }

    /// The documents as stored inside a change's transaction: every revision, and the bodies of the documents asked
    /// for, read under the change lock.
    package struct StoredRevisions: Sendable {
        package let revisions: [String: String]
        let connection: PostgresConnection
        let logger: Logger

        /// The named documents that exist.
        package func documents(named names: [String]) async throws -> [Document] {
            guard !names.isEmpty else { return [] }
            return try await PolicyDatabase.documents(
                connection.query(PolicyDatabase.documentsQuery(named: names), logger: logger)
            )
        }
    }

    /// Runs `plan` on the documents as stored (their revisions, and a reader of the bodies it needs), under the
    /// fleet-wide change lock, and stores what it returns with its audit row in the same transaction: two writers on
    /// two instances take turns, and the second sees the first's change (so its If-Match fails as it would on one
    /// instance). The NOTIFY of the row's trigger goes out at commit.
    package func change(
        _ plan: (StoredRevisions) async throws -> PolicyDocumentChangeRow
    ) async throws -> PolicyDocumentChangeRow {
        try await client.transaction(logger: logger, within: StoreDeadline.answer) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PolicySchema.changeLock))", logger: logger)
            let revisions = try await Self.revisions(connection.query(Self.revisionsQuery, logger: logger))
            let change = try await plan(StoredRevisions(revisions: revisions, connection: connection, logger: logger))
            try await connection.query(
                """
                INSERT INTO tenantgate.policy_documents (name, body) VALUES (\(change.name), \(change.body))
                ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO tenantgate.policy_changes (document, line) VALUES (\(change.name), \(change.auditLine)::jsonb)
                """,
                logger: logger
            )
            return change
        }
    }

    /// Claims the alert `key` for this instance: true for the one instance of the fleet that claims it first, false
    /// for every other (and for this one again).
    package func claimAlert(_ key: String) async throws -> Bool {
        let rows = try await client.query(
            "INSERT INTO tenantgate.alert_claims (key) VALUES (\(key)) ON CONFLICT (key) DO NOTHING RETURNING key",
            logger: logger
        )
        for try await _ in rows { return true }
        return false
    }

    /// Replaces every document with `documents` in one transaction (import): nothing half-imported.
    package func replaceAll(with documents: [Document], auditLine: String) async throws {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PolicySchema.changeLock))", logger: logger)
            let names = documents.map(\.name)
            try await connection.query(
                "DELETE FROM tenantgate.policy_documents WHERE NOT (name = ANY(\(names)))",
                logger: logger
            )
            for document in documents {
                try await connection.query(
                    """
                    INSERT INTO tenantgate.policy_documents (name, body) VALUES (\(document.name), \(document.body))
                    ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body
                        WHERE tenantgate.policy_documents.body IS DISTINCT FROM EXCLUDED.body
                    """,
                    logger: logger
                )
            }
            try await connection.query(
                "INSERT INTO tenantgate.policy_changes (document, line) VALUES (NULL, \(auditLine)::jsonb)",
                logger: logger
            )
        }
    }

    /// Whether an error says the database could not be reached (as opposed to a statement it refused).
    static func isUnreachable(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return !(error is PostgresDecodingError) }
        return error.code != .server
    }
}

/// One document to write, with the change's audit line (a JSON object).
package struct PolicyDocumentChangeRow: Sendable {
    package let name: String
    package let body: String
    package let auditLine: String

    package init(name: String, body: String, auditLine: String) {
        self.name = name
        self.body = body
        self.auditLine = auditLine
    }
}

extension PolicyDatabase {
    /// Whether an error came from the database or its connection, rather than from code run inside a transaction.
    static func isDatabaseError(_ error: any Error) -> Bool {
        error is PSQLError || error is PostgresDecodingError || error is PostgresError || error is TimedOut
    }
}

extension PolicyDatabase {
    package struct TimedOut: Error, CustomStringConvertible {
        let after: Duration
        package var description: String { "no answer within \(after)" }
    }

    /// A change's COMMIT was sent and not answered within `after`.
    package struct CommitUnconfirmed: Error, CustomStringConvertible {
        let after: Duration
        package var description: String { "its commit was not answered within \(after)" }
    }

    /// Brings the schema up to date and reads every document: what an instance does before it serves. Gives up
    /// after `limit`, since the pool would otherwise keep trying to connect.
    package func migrateAndRead(within limit: Duration) async throws -> [Document] {
        try await withThrowingTaskGroup(of: [Document]?.self) { group in
            group.addTask {
                let applied = try await PolicySchema.migrate(self.client, logger: self.logger)
                if !applied.isEmpty {
                    self.logger.notice("policy store schema migrated", metadata: ["versions": "\(applied)"])
                }
                return try await self.documents()
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let documents = first else { throw TimedOut(after: limit) }
            return documents
        }
    }
}
