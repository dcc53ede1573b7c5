import Foundation
import Logging
import Metrics
import Plumbing
import PolicyFiles
import PolicyService
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Keeps this instance's policy in force current with the shared database: it LISTENs for the names of documents
/// that change, and on a notification reads, as one snapshot, every document whose revision (its row version)
/// differs from what it holds, so that one transaction's changes are applied together; re-reads and re-parses only
/// those. A periodic check does the same and counts what a lost notification missed; after a reconnect it checks at
/// once. Every read and apply runs in one loop, in order, so an older read can never be applied after a newer one. A set that fails validation is refused,
/// logged and counted, and the last good one stays in force; decisions never wait on any of this.
package final class PolicyDatabaseFollower: PolicyFollower, Sendable {
    private enum Work: Sendable {
        /// Documents this instance has just written (an admin change), read before its caller goes on.
        case documents(Set<String>)
        /// A notification came: whatever differs, read as one snapshot.
        case notified
        /// The periodic check, a reconnect or SIGHUP: the same, and what it finds is a repair.
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
    /// The documents as last read from the store (parsed, with their revisions), kept even when they failed
    /// validation: a notification re-reads only its own document and joins it to the rest as stored (not as last in
    /// force), so a set made valid again by one mended row is applied, and the periodic check compares against what
    /// was read, not what was applied.
    private let held: Locked<Held>
    /// Whether a notification's read is queued and not begun: the notifications of one transaction (an import's
    /// hundreds) come together and need one read.
    private let notifiedReadQueued = Atomic<Bool>(false)

    private struct Held: Sendable {
        var library: PolicyLibrary
        var revisions: [String: String]
    }
    private let health: Locked<PolicySourceStatus>
    private let notifications = Counter(label: "tenantgate_policy_store_notifications_total")
    private let repairs = Counter(label: "tenantgate_policy_store_repairs_total")
    private let reachableGauge = Gauge(label: "tenantgate_policy_store_up")

    /// - Parameters:
    ///   - library: the documents the policy in force was built from (read at start), parsed;
    ///   - revisions: their revisions.
    package init(
        database: PolicyDatabase,
        store: PolicyStore,
        library: PolicyLibrary,
        revisions: [String: String],
        checkInterval: Duration,
        logger: Logger
    ) {
        self.database = database
        self.store = store
        self.checkInterval = checkInterval
        self.logger = logger
        (requests, submit) = AsyncStream.makeStream(of: Request.self)
        held = Locked(Held(library: library, revisions: revisions))
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
                        let probe = Task { await self.probe(connection) }
                        defer { probe.cancel() }
                        for try await _ in stream {
                            notifications.increment()
                            if !notifiedReadQueued.exchange(true, ordering: .acquiringAndReleasing) {
                                submit.yield(Request(work: .notified, done: nil))
                            }
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

    /// A silent connection brings no notification and no error: a query on it, each check interval, that gets no
    /// answer in time closes it, which ends the listen and starts a new connection.
    private func probe(_ connection: PostgresConnection) async {
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: checkInterval)) != nil else { return }
            do {
                try await StoreDeadline.within { [logger] in _ = try await connection.query("SELECT 1", logger: logger)
                }
            } catch {
                if Task.isCancelled { return }
                markUnreachable(error)
                try? await connection.close()
                return
            }
        }
    }

    private func checkPeriodically() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: checkInterval)
            if Task.isCancelled { return }
            submit.yield(Request(work: .everything, done: nil))
        }
    }

    /// The library as stored now, inside a change's transaction: what this instance holds, with the documents whose
    /// revision differs read again (the follower's own loop catches up on them in its turn).
    package func library(matching stored: PolicyDatabase.StoredRevisions) async throws -> PolicyLibrary {
        let current = held.withLock { $0 }
        let (changed, removed) = Self.differences(stored.revisions, current.revisions)
        let names = changed + removed
        return current.library.updating(Self.changes(names, found: try await stored.documents(named: names)))
    }

    /// The library changes that reading `names` found: each name to its body, or to nil when it has no row.
    private static func changes(_ names: [String], found: [PolicyDatabase.Document]) -> [String: String?] {
        var changes: [String: String?] = [:]
        for name in names { changes[name] = .some(nil) }
        for document in found { changes[document.name] = document.body }
        return changes
    }

    /// Names whose stored revision differs from the held one, and names held but no longer stored.
    private static func differences(
        _ stored: [String: String],
        _ held: [String: String]
    ) -> (changed: [String], removed: [String]) {
        (
            stored.filter { held[$0.key] != $0.value }.map(\.key).sorted(),
            held.keys.filter { stored[$0] == nil }.sorted()
        )
    }

    /// Reads what `work` names and applies the result; false when the store could not be read.
    private func perform(_ work: Work) async -> Bool {
        let current = held.withLock { $0 }
        let changes: [String: String?]
        var revisions = current.revisions
        do {
            let names: [String]
            let found: [PolicyDatabase.Document]
            switch work {
            case .documents(let asked):
                names = Array(asked)
                found = try await database.documents(named: names)
            case .notified, .everything:
                if case .notified = work { notifiedReadQueued.store(false, ordering: .releasing) }
                let (changed, removed) = try await database.snapshot(differingFrom: current.revisions)
                if changed.isEmpty && removed.isEmpty {
                    markReachable()
                    return true
                }
                names = changed.map(\.name) + removed
                found = changed
                if case .everything = work {
                    // The notifications should have brought these: count the repair.
                    repairs.increment()
                    logger.notice(
                        "the policy store's periodic check found changes no notification brought",
                        metadata: ["changed": "\(changed.map(\.name))", "removed": "\(removed)"]
                    )
                }
            }
            changes = Self.changes(names, found: found)
            for name in names { revisions[name] = nil }
            for document in found { revisions[document.name] = document.revision }
            markReachable()
        } catch {
            markUnreachable(error)
            return false
        }
        let library = current.library.updating(changes)
        held.withLock { $0 = Held(library: library, revisions: revisions) }
        if library.version != current.library.version { apply(library) }
        return true
    }

    private func apply(_ library: PolicyLibrary) {
        switch store.apply(library) {
        case .success(let bundle):
            logger.notice("policies reloaded from the policy store", metadata: ["version": "\(bundle.version)"])
        case .failure(let error):
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
