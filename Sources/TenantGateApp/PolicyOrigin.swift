import Foundation
import Logging
import PolicyDatabase
import PolicyFiles
import PolicyService

/// Where `serve` reads its policies: the directory (the embedded default) or the fleet's PostgreSQL store, migrated
/// and read before anything listens. Either way the set must validate, or the instance does not start.
struct PolicyOrigin {
    let bundle: PolicyBundle
    private let kind: Kind
    /// The store's connection pool, running.
    let running: Task<Void, Never>?

    private enum Kind {
        case directory(PolicyDirectoryContents)
        case database(PolicyDatabase, PolicyLibrary, revisions: [String: String])
    }

    /// The fleet's store, when the policies are there.
    var database: PolicyDatabase? {
        if case .database(let database, _, _) = kind { database } else { nil }
    }

    static func open(settings: ServeSettings, logger: Logger) async throws(Application.SetupError) -> PolicyOrigin {
        guard let store = settings.policyStore else {
            switch PolicyDirectoryContents.read(settings.policiesDirectory).flatMap({ contents in
                contents.library.outcome.map { ($0, contents) }
            }) {
            case .success(let (bundle, contents)):
                return PolicyOrigin(bundle: bundle, kind: .directory(contents), running: nil)
            case .failure(let error):
                throw Application.SetupError(
                    lines: error.diagnostics.map(\.description)
                        + ["the policies in \(settings.policiesDirectory) are invalid; not starting"]
                )
            }
        }
        let url: PolicyStoreURL
        let database: PolicyDatabase
        do {
            url = try PolicyStoreURL(store.url, trustedCAFile: store.trustedCAFile, allowInsecure: store.allowInsecure)
            database = PolicyDatabase(url: url, logger: logger)
        } catch {
            throw Application.SetupError("\(error)")
        }
        let running = Task { await database.run() }
        let documents: [PolicyDatabase.Document]
        do {
            documents = try await database.migrateAndRead(within: .seconds(15))
        } catch {
            running.cancel()
            throw Application.SetupError("policy store \(url): \(error); not starting")
        }
        let library = PolicyLibrary(
            files: documents.map { PolicyDirectoryLoader.SourceFile(name: $0.name, contents: $0.body) }
        )
        let revisions = Dictionary(documents.map { ($0.name, $0.revision) }, uniquingKeysWith: { _, last in last })
        switch library.outcome {
        case .success(let bundle):
            if documents.isEmpty {
                logger.warning(
                    "the policy store holds no policies, so no tenant is isolated: import them with 'tenantgate policies import DIR --policy-store URL'",
                    metadata: ["store": "\(url)"]
                )
            }
            return PolicyOrigin(
                bundle: bundle,
                kind: .database(database, library, revisions: revisions),
                running: running
            )
        case .failure(let error):
            running.cancel()
            throw Application.SetupError(
                lines: error.diagnostics.map(\.description) + ["the policies in \(url) are invalid; not starting"]
            )
        }
    }

    /// The source admin edits go to, and the service that keeps `store` current with it.
    func follow(
        _ store: PolicyStore,
        settings: ServeSettings,
        logger: Logger
    ) -> (any PolicySource, any PolicyFollower) {
        switch kind {
        case .directory(let contents):
            let watcher = PolicyDirectoryWatcher(
                contents: contents,
                store: store,
                interval: settings.policyWatchInterval,
                logger: logger
            )
            return (PolicyDirectorySource(watcher: watcher, store: store), watcher)
        case .database(let database, let library, let revisions):
            let follower = PolicyDatabaseFollower(
                database: database,
                store: store,
                library: library,
                revisions: revisions,
                checkInterval: settings.policyStore?.checkInterval ?? .seconds(10),
                logger: logger
            )
            return (PostgresPolicySource(database: database, follower: follower, store: store), follower)
        }
    }

    /// Stops the store's pool when setup fails after it was opened.
    func close() { running?.cancel() }
}
