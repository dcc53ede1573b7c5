import Foundation
import Plumbing

/// The thread that makes event loops' lines durable (`AuditSync.always`) without holding a loop: a loop writes its
/// group and hands the wait to this thread; every group written while one `fdatasync` runs shares the next one
/// (group commit, as PostgreSQL's `commit_delay`), and each group's completions run once its lines are on disk.
///
/// When groups come one at a time (one exchange in flight), there is nothing to share a sync with and nothing for
/// the loop to serve meanwhile: the writer's own thread then syncs, which spares two thread wake-ups an exchange (on
/// this 2-core VM a wake-up of an idle core costs tens of µs, beside a sync of about 110).
final class AuditSyncWorker: Sendable {
    typealias Completion = AuditLog.Completion

    private struct Waiting {
        var groups: [(sequence: UInt64, completion: Completion)] = []
        /// Syncs running now, on this thread or a writer's.
        var syncing = 0
        var pace = SyncPace()
        var stopping = false
    }

    private let file: AuditFile
    private let waiting = Locked(Waiting())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    init(file: AuditFile) {
        self.file = file
        let thread = Thread { [self] in run() }
        thread.name = "tenantgate-audit-sync"
        thread.start()
    }

    /// `completion` runs once the write numbered `sequence` is on disk, or with the failure: on this thread, or
    /// before this returns on the caller's when groups come one at a time.
    func whenDurable(_ sequence: UInt64, completion: @escaping Completion) {
        let syncHere = waiting.withLock { state -> Bool in
            let busy = state.syncing > 0 || !state.groups.isEmpty
            state.pace.groupArrived(whileSyncing: busy)
            guard !state.stopping, !busy, state.pace.groupsAreSparse else {
                state.groups.append((sequence, completion))
                return false
            }
            state.syncing += 1
            return true
        }
        if syncHere {
            completion(sync(through: sequence))
        } else {
            wakeUp.signal()
        }
    }

    /// Completes what waits, then ends the thread.
    func stop() {
        waiting.withLock { $0.stopping = true }
        wakeUp.signal()
        stopped.wait()
    }

    private func run() {
        while true {
            wakeUp.wait()
            let (groups, stopping) = waiting.withLock { state in
                defer { state.groups.removeAll(keepingCapacity: true) }
                if !state.groups.isEmpty { state.syncing += 1 }
                return (state.groups, state.stopping)
            }
            if let last = groups.map(\.sequence).max() {
                let result = sync(through: last)
                for group in groups { group.completion(result) }
            }
            if stopping {
                stopped.signal()
                return
            }
        }
    }

    /// One sync through `sequence`, timed for `SyncPace`; the caller has counted it in `syncing`.
    private func sync(through sequence: UInt64) -> Result<Void, any Error> {
        let started = ContinuousClock.now
        let result = file.makeDurable(through: sequence).mapError { $0 as any Error }
        let took = ContinuousClock.now - started
        waiting.withLock { state in
            state.syncing -= 1
            state.pace.syncTook(took)
        }
        return result
    }
}

/// Whether groups have lately come while another was waiting for or in a sync: a share that forgets old groups
/// (weight 1/4 for the newest). It starts as if they had, so a writer syncs on its own thread only after a dozen
/// groups in a row found nothing to share a sync with, and goes back to the sync thread at the first that did.
/// Syncs that have lately been slow (a disk under strain) keep every group on the sync thread, so a loop is not
/// held for them.
struct SyncPace {
    private var overlapping = 1.0
    private var meanSync: Duration = .zero

    mutating func groupArrived(whileSyncing: Bool) {
        overlapping = (overlapping * 3 + (whileSyncing ? 1 : 0)) / 4
    }

    mutating func syncTook(_ duration: Duration) {
        meanSync = (meanSync * 3 + duration) / 4
    }

    /// Groups come one at a time and syncs are quick: a group would wait for no other, and its loop has nothing
    /// else to serve.
    var groupsAreSparse: Bool { overlapping < 0.05 && meanSync < .milliseconds(1) }
}
