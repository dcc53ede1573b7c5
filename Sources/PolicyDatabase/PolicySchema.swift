import Logging
import PostgresNIO

/// The schema TenantGate keeps in its database, in versioned migrations applied at start. Each migration runs once,
/// in the same transaction as its row in `schema_migrations`, under an advisory lock, so instances of a fleet that
/// start together apply it once between them; a database migrated by a newer TenantGate is refused.
package enum PolicySchema {
    package struct Migration: Sendable {
        package let version: Int
        package let summary: String
        let statements: [String]
    }

    /// The channel instances LISTEN on; the payload is the name of the document that changed.
    package static let channel = "tenantgate_policy"
    /// `pg_advisory_xact_lock` keys: one for migrations, one that every policy change holds.
    static let migrationLock: Int64 = 0x7465_6e61_6e74_0001
    static let changeLock: Int64 = 0x7465_6e61_6e74_0002

    package static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "policy documents and the audit rows of their changes",
            statements: [
                """
                CREATE TABLE tenantgate.policy_documents (
                    name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]*[.](json|yaml|yml)$'),
                    body text NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                """
                CREATE TABLE tenantgate.policy_changes (
                    id bigserial PRIMARY KEY,
                    at timestamptz NOT NULL DEFAULT now(),
                    document text,
                    line jsonb NOT NULL
                )
                """,
            ]
        ),
        Migration(
            version: 2,
            summary: "row versions and change notifications (LISTEN/NOTIFY), also for rows written by hand",
            statements: [
                "CREATE SEQUENCE tenantgate.policy_document_versions",
                """
                ALTER TABLE tenantgate.policy_documents
                    ADD COLUMN row_version bigint NOT NULL DEFAULT nextval('tenantgate.policy_document_versions')
                """,
                """
                CREATE FUNCTION tenantgate.policy_document_versioned() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW.row_version := nextval('tenantgate.policy_document_versions');
                    NEW.updated_at := now();
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER policy_document_versioned BEFORE UPDATE ON tenantgate.policy_documents
                    FOR EACH ROW EXECUTE FUNCTION tenantgate.policy_document_versioned()
                """,
                """
                CREATE FUNCTION tenantgate.policy_document_notify() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'DELETE' THEN
                        PERFORM pg_notify('\(channel)', OLD.name);
                    ELSE
                        PERFORM pg_notify('\(channel)', NEW.name);
                    END IF;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER policy_document_notify AFTER INSERT OR UPDATE OR DELETE ON tenantgate.policy_documents
                    FOR EACH ROW EXECUTE FUNCTION tenantgate.policy_document_notify()
                """,
            ]
        ),
        Migration(
            version: 3,
            summary: "alerts claimed by one instance of the fleet",
            statements: [
                """
                CREATE TABLE tenantgate.alert_claims (
                    key text PRIMARY KEY,
                    claimed_at timestamptz NOT NULL DEFAULT now()
                )
                """
            ]
        ),
    ]

    package static var currentVersion: Int { migrations.map(\.version).max() ?? 0 }

    package struct NewerSchema: Error, CustomStringConvertible {
        let found: Int
        package var description: String {
            "the policy store's schema is at version \(found), newer than this tenantgate knows (\(currentVersion)): "
                + "upgrade tenantgate"
        }
    }

    /// Brings the schema to `target` (by default the newest); returns the versions it applied.
    @discardableResult
    package static func migrate(
        _ client: PostgresClient,
        to target: Int = currentVersion,
        logger: Logger
    ) async throws -> [Int] {
        try await client.transaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS tenantgate", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS tenantgate.schema_migrations (
                    version integer PRIMARY KEY, summary text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var applied: Set<Int> = []
            for try await version in try await connection.query(
                "SELECT version FROM tenantgate.schema_migrations",
                logger: logger
            ).decode(Int.self) {
                applied.insert(version)
            }
            if let newest = applied.max(), newest > currentVersion { throw NewerSchema(found: newest) }
            var done: [Int] = []
            for migration in migrations where migration.version <= target && !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO tenantgate.schema_migrations (version, summary) VALUES (\(migration.version), \(migration.summary))",
                    logger: logger
                )
                done.append(migration.version)
            }
            return done
        }
    }
}
