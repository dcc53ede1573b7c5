import Foundation
import Plumbing
import PolicyFiles
import ServiceLifecycle

/// One admin change, planned against the documents as they are stored now: the document to write, the library and
/// whole set it makes, and the change's audit line (JSON, one line).
package struct PolicyDocumentChange: Sendable {
    package let name: String
    package let contents: String
    package let library: PolicyLibrary
    package let bundle: PolicyBundle
    package let auditLine: [UInt8]

    package init(name: String, contents: String, library: PolicyLibrary, bundle: PolicyBundle, auditLine: [UInt8]) {
        self.name = name
        self.contents = contents
        self.library = library
        self.bundle = bundle
        self.auditLine = auditLine
    }
}

/// Why a source could not store a planned change. Either way nothing changed.
package enum PolicySourceError: Error, CustomStringConvertible {
    /// The store cannot be reached now (the fleet's database is down): try again later.
    case unavailable(String)
    /// The store refused or failed the write.
    case failed(String)
    /// The write was sent and its commit not confirmed in time: it may have been made, or not.
    case unconfirmed(String)

    package var description: String {
        switch self {
        case .unavailable(let reason): "the policy store is unavailable: \(reason)"
        case .failed(let reason): reason
        case .unconfirmed(let reason): "the policy store did not confirm the change: \(reason)"
        }
    }
}

/// Where the policy documents live: a directory on this host, or the database a fleet shares. Admin edits go
/// through it; the policy in force (`PolicyStore`) is kept current by its follower.
package protocol PolicySource: Sendable {
    /// Names the source in logs, errors and the console (a directory, or a database URL without its password).
    var label: String { get }

    /// The name a new document called `fileName` gets in this source.
    func documentName(_ fileName: String) -> String

    /// Whether the source can be reached, for `/readyz`.
    var status: PolicySourceStatus { get }

    /// Runs one change while no other change runs (on this instance, or anywhere in the fleet): `plan` gets the
    /// documents as stored now (parsed: only what changed since they were last read is read again) and throws to
    /// refuse; what it returns is stored (with its audit line, where the source
    /// keeps them) and put in force for the very next exchange. Throws what `plan` throws, `PolicyValidationError`
    /// when the stored documents cannot be read, or `PolicySourceError`.
    func change(_ plan: (PolicyLibrary) throws -> PolicyDocumentChange) async throws -> PolicyDocumentChange
}

/// Keeps the policy in force current with its source, and re-reads it at once when asked (SIGHUP).
package protocol PolicyFollower: Service {
    func reload()
}

/// The embedded default: the policies directory, written file by file, atomically, and read back by its watcher.
package struct PolicyDirectorySource: PolicySource {
    package let watcher: PolicyDirectoryWatcher
    package let store: PolicyStore

    package init(watcher: PolicyDirectoryWatcher, store: PolicyStore) {
        self.watcher = watcher
        self.store = store
    }

    package var label: String { watcher.directory }

    package var status: PolicySourceStatus { .directory }

    package func documentName(_ fileName: String) -> String {
        (watcher.directory as NSString).appendingPathComponent(fileName)
    }

    package func change(_ plan: (PolicyLibrary) throws -> PolicyDocumentChange) async throws -> PolicyDocumentChange {
        try watcher.change { library, unsettled in
            let change = try plan(library)
            // Written on disk a moment ago, maybe still being written: the change was planned on its last version read,
            // and would overwrite what was written since.
            if unsettled.contains(change.name) {
                let file = (change.name as NSString).lastPathComponent
                throw PolicySourceError.unavailable("\(file) is being written on disk; try again in a second")
            }
            do {
                try DurableFile.replace(change.name, contents: Array(change.contents.utf8))
            } catch {
                throw PolicySourceError.failed("\(error)")
            }
            store.replace(with: change.bundle)
            return (change, change.name, change.library)
        }
    }
}

extension PolicyDirectoryWatcher: PolicyFollower {}

/// How the policy source is doing, for `/readyz`: enforcement never waits on it, so an unreachable store leaves the
/// instance ready (it enforces the last good set) and says so.
package struct PolicySourceStatus: Sendable {
    /// `directory` or `postgres`.
    package var kind: String
    package var reachable: Bool
    /// Why it is unreachable, and since when.
    package var problem: String?
    package var unreachableSince: Date?
    /// When the store was last read successfully.
    package var lastContact: Date?

    package init(
        kind: String,
        reachable: Bool,
        problem: String? = nil,
        unreachableSince: Date? = nil,
        lastContact: Date? = nil
    ) {
        self.kind = kind
        self.reachable = reachable
        self.problem = problem
        self.unreachableSince = unreachableSince
        self.lastContact = lastContact
    }

    package static let directory = PolicySourceStatus(kind: "directory", reachable: true)
}
