import Foundation
import PolicyFiles
import PolicyService

/// Admin edits against the fleet's database: judged and written in one transaction under the fleet-wide change
/// lock, then read back through this instance's follower before the call returns, so that this instance's next
/// exchange is decided under the change; the others learn of it by NOTIFY.
package struct PostgresPolicySource: PolicySource {
    let database: PolicyDatabase
    let follower: PolicyDatabaseFollower
    let store: PolicyStore

    package init(database: PolicyDatabase, follower: PolicyDatabaseFollower, store: PolicyStore) {
        self.database = database
        self.follower = follower
        self.store = store
    }

    package var label: String { database.url.description }

    /// Documents are named by their file name alone.
    package func documentName(_ fileName: String) -> String { fileName }

    package var status: PolicySourceStatus { follower.status }

    package func change(_ plan: (PolicyLibrary) throws -> PolicyDocumentChange) async throws -> PolicyDocumentChange {
        // A store known to be down answers at once rather than after a connect timeout.
        guard follower.status.reachable else {
            throw PolicySourceError.unavailable(follower.status.problem ?? "not reachable")
        }
        var planned: PolicyDocumentChange?
        do {
            _ = try await database.change { stored in
                let change = try plan(try await follower.library(matching: stored))
                planned = change
                let line = String(decoding: change.auditLine, as: UTF8.self)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return PolicyDocumentChangeRow(name: change.name, body: change.contents, auditLine: line)
            }
        } catch let error as PolicySourceError {
            throw error
        } catch let error as PolicyDatabase.CommitUnconfirmed {
            throw PolicySourceError.unconfirmed(error.description)
        } catch {
            // What the plan threw (a refusal, a precondition) comes back as it is; the rest is the database's.
            guard planned != nil || PolicyDatabase.isDatabaseError(error) else { throw error }
            throw PolicyDatabase.isUnreachable(error)
                ? PolicySourceError.unavailable(String(reflecting: error))
                : PolicySourceError.failed(String(reflecting: error))
        }
        guard let planned else { throw PolicySourceError.failed("the change was not planned") }
        // Committed. Read back in order with the notifications; if the store went away after the commit, put the
        // planned set in force directly (the follower's next check reconciles).
        if await !follower.refresh([planned.name]) { store.replace(with: planned.bundle) }
        return planned
    }
}
