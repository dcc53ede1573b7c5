import Foundation
import Logging
import Metrics
import Plumbing
import PolicyFiles
import PolicyService
import PostgresNIO
import ServiceLifecycle

/// Keeps this instance's policy in force current with the shared database: it LISTENs for the name of each document
/// that changes and re-reads that document only; a periodic check compares every document's MD5 with what it holds
/// and repairs what a lost notification missed; after a reconnect it checks at once. Every read and apply runs in one
/// loop, in order, so an older read can never be applied after a newer one. A set that fails validation is refused,
/// logged and counted, and the last good one stays in force; decisions never wait on any of this.
package final class PolicyDatabaseFollower: PolicyFollower, Sendable {
    private enum Work: Sendable {
        case documents(Set<String>)
        case everything
    }

    private struct Request: Sendable {
        let work: Work
        let done: (@Sendable (Bool) -> Void)?
    }

    private let database: PolicyDatabase
    private let store: PolicyStore
    private let checkInterval: Duration
    private let logger: Logger
    private let requests: AsyncStream<Request>
    private let submit: AsyncStream<Request>.Continuation
    /// The documents as last read from the store, kept even when they failed validation: a notification re-reads
    /// only its own document and joins it to the rest as stored (not as last in force), so a set made valid again
    /// by one mended row is applied, and the periodic check compares against what was read, not what was applied.
    private let held: Locked<[String: String]>
    private let health: Locked<PolicySourceStatus>
    private let applied = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "applied")])
    private let refused = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "refused")])
    private let notifications = Counter(label: "tenantgate_policy_store_notifications_total")
    private let repairs = Counter(label: "tenantgate_policy_store_repairs_total")
    private let reachableGauge = Gauge(label: "tenantgate_policy_store_up")

    /// - Parameter documents: the documents the policy in force was built from (read at start).
    package init(
        database: PolicyDatabase,
        store: PolicyStore,
        documents: [PolicyDatabase.Document],
        checkInterval: Duration,
        logger: Logger
    ) {
        self.database = database
        self.store = store
        self.checkInterval = checkInterval
        self.logger = logger
        (requests, submit) = AsyncStream.makeStream(of: Request.self)
        held = Locked(
            Dictionary(documents.map { ($0.name, $0.body) }, uniquingKeysWith: { _, last in last })
        )
        health = Locked(PolicySourceStatus(kind: "postgres", reachable: true, lastContact: Date()))
        reachableGauge.record(1)
    }

    package var status: PolicySourceStatus { health.withLock { $0 } }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.applyInOrder() }
                group.addTask { await self.listen() }
                group.addTask { await self.checkPeriodically() }
                await group.next()
                group.cancelAll()
            }
        }
        submit.finish()
    }

    /// SIGHUP: the whole store, now.
    package func reload() {
        submit.yield(Request(work: .everything, done: nil))
    }

    /// Re-reads `names` and applies them before returning: an admin write on this instance waits for it, so its
    /// very next exchange is decided under the change. False when the store could not be read.
    package func refresh(_ names: Set<String>) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let result = submit.yield(Request(work: .documents(names), done: { continuation.resume(returning: $0) }))
            if case .terminated = result { continuation.resume(returning: false) }
        }
    }

    private func applyInOrder() async {
        for await request in requests {
            let read = await perform(request.work)
            request.done?(read)
        }
    }

    private func listen() async {
        var delay = Duration.milliseconds(100)
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try database.url.connectionConfiguration(),
                    id: 1,
                    logger: logger
                )
                do {
                    try await connection.listen(on: PolicySchema.channel) { stream in
                        // Anything changed while nobody listened (at start, or while the database was away) is read
                        // now.
                        submit.yield(Request(work: .everything, done: nil))
                        delay = .milliseconds(100)
                        for try await notification in stream {
                            notifications.increment()
                            submit.yield(Request(work: .documents([notification.payload]), done: nil))
                        }
                    }
                } catch {
                    markUnreachable(error)
                }
                try? await connection.close()
            } catch {
                markUnreachable(error)
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
    }

    private func checkPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: checkInterval)
            if Task.isCancelled { return }
            submit.yield(Request(work: .everything, done: nil))
        }
    }

    /// Reads what `work` names and applies the result; false when the store could not be read.
    private func perform(_ work: Work) async -> Bool {
        var documents = held.withLock { $0 }
        do {
            switch work {
            case .documents(let names):
                let found = try await database.documents(named: Array(names))
                for name in names { documents[name] = nil }
                for document in found { documents[document.name] = document.body }
            case .everything:
                let stored = try await database.fingerprints()
                let changed = stored.filter { name, digest in
                    documents[name].map(PolicyDatabase.fingerprint) != digest
                }.map(\.key)
                let removed = documents.keys.filter { stored[$0] == nil }
                if changed.isEmpty && removed.isEmpty {
                    markReachable()
                    return true
                }
                // The notifications should have brought these: count the repair.
                repairs.increment()
                logger.notice(
                    "the policy store's periodic check found changes no notification brought",
                    metadata: ["changed": "\(changed.sorted())", "removed": "\(removed.sorted())"]
                )
                for name in removed { documents[name] = nil }
                for document in try await database.documents(named: changed) {
                    documents[document.name] = document.body
                }
            }
            markReachable()
        } catch {
            markUnreachable(error)
            return false
        }
        let before = held.withLock { current in
            defer { current = documents }
            return current
        }
        if before != documents { apply(documents) }
        return true
    }

    private func apply(_ documents: [String: String]) {
        let files = documents.sorted { $0.key < $1.key }.map {
            PolicyDirectoryLoader.SourceFile(name: $0.key, contents: $0.value)
        }
        switch PolicyDirectoryLoader.load(files: files) {
        case .success(let bundle):
            store.replace(with: bundle)
            applied.increment()
            logger.notice("policies reloaded from the policy store", metadata: ["version": "\(bundle.version)"])
        case .failure(let error):
            refused.increment()
            logger.error(
                "the policy store holds an invalid set, refused; the last good policies stay in force",
                metadata: ["errors": "\(error.errors.map(\.description).joined(separator: "; "))"]
            )
        }
    }

    private func markReachable() {
        health.withLock { status in
            if !status.reachable { logger.notice("the policy store is reachable again") }
            status = PolicySourceStatus(kind: "postgres", reachable: true, lastContact: Date())
        }
        reachableGauge.record(1)
    }

    private func markUnreachable(_ error: any Error) {
        let reason = String(reflecting: error)
        health.withLock { status in
            if status.reachable {
                logger.error(
                    "the policy store is unreachable; enforcing the last good policies",
                    metadata: ["store": "\(database.url)", "error": "\(reason)"]
                )
                status.unreachableSince = Date()
            }
            status.reachable = false
            status.problem = reason
        }
        reachableGauge.record(0)
    }
}
