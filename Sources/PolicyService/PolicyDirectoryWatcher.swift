import Foundation
import Logging
import Plumbing
import PolicyFiles
import ServiceLifecycle

/// Keeps the policy in force current with the policies directory: every `interval` it asks the directory what
/// changed (`PolicyDirectoryContents.refresh`: a `stat` per file, a read and parse only of a file that changed), and
/// puts the new set in force. Portable, and a second's delay is far inside the 100 ms-to-next-exchange budget that
/// matters once a change is seen. An invalid set is refused and counted; the last good one stays in force.
package final class PolicyDirectoryWatcher: Service, Sendable {
    private let store: PolicyStore
    private let interval: Duration
    private let logger: Logger
    /// The directory as last read, taken from the load the policy in force came from (so an edit made before `run()`
    /// starts is still seen). Read and changed only under the store's change lock.
    private let contents: Locked<PolicyDirectoryContents>

    package init(
        contents: PolicyDirectoryContents,
        store: PolicyStore,
        interval: Duration = .seconds(1),
        logger: Logger
    ) {
        self.contents = Locked(contents)
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    package var directory: String { contents.withLock { $0.directory } }

    package func run() async throws {
        // No interval: edits reach the policy in force by SIGHUP and admin writes only.
        guard interval > .zero else { return try await gracefulShutdown() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Ended by a stop too: slept through, it held the proxy's listener open for up to an interval after
            // SIGTERM (review 52 F3).
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            store.exclusively {
                let (changed, library) = refreshed(settling: Self.settling)
                if !changed.isEmpty { apply(library) }
            }
        }
    }

    /// Reads what changed and applies the directory now (SIGHUP).
    package func reload() {
        store.exclusively { apply(refreshed().library) }
    }

    /// Runs an admin change against the directory as it is on disk now, under the store's change lock: `change`
    /// gets the library (with any edit made on disk since the last poll that has settled, as a poll reads them) and
    /// the files still settling, and returns the file it wrote and the library that makes, which is then remembered
    /// so the next poll does not read that file again. Review 61 F2: read at once, another tenant's file caught
    /// half-rewritten (no `isolation:` yet, so isolation Off) went into force with an unrelated tenant's write.
    /// While a file is renamed on disk, its old name counts as unsettled too: a write to it would re-create it beside
    /// its new name, two files for one tenant (review 62 F3).
    package func change<T>(
        _ change: (PolicyLibrary, _ unsettled: Set<String>) throws -> (T, written: String, library: PolicyLibrary)
    ) rethrows -> T {
        try store.exclusively {
            let (library, unsettled) = contents.withLock { contents in
                contents.refresh(settling: Self.settling)
                return (contents.library, contents.unsettled.union(contents.heldBackRemovals))
            }
            let (result, written, next) = try change(library, unsettled)
            contents.withLock { $0.wrote(written, making: next) }
            return result
        }
    }

    /// How long a file must have been left alone before a poll or an admin write reads it
    /// (`PolicyDirectoryContents.refresh`); SIGHUP reads at once.
    package static let settling = Duration.seconds(1)

    /// What changed on disk since the last look, and the library as it is now. Called under the store's change lock.
    private func refreshed(settling: Duration = .zero) -> (changed: [String], library: PolicyLibrary) {
        contents.withLock { ($0.refresh(settling: settling), $0.library) }
    }

    private func apply(_ library: PolicyLibrary) {
        switch store.apply(library) {
        case .success(let bundle):
            logger.notice("policies reloaded", metadata: ["version": "\(bundle.version)"])
        case .failure(let error):
            logger.error(
                "policy reload refused; the last good policies stay in force",
                metadata: ["errors": "\(error.diagnostics.map(\.description).joined(separator: "; "))"]
            )
        }
    }
}
