import Foundation
import Plumbing
import Synchronization

/// The thread that makes event loops' lines durable (`AuditSync.always`) without holding a loop: a loop writes its
/// group and hands the wait to this thread; every group written while one `fdatasync` runs shares the next one
/// (group commit, as PostgreSQL's `commit_delay`), and each group's completions run once its lines are on disk.
///
/// Under load a sync also waits a bounded moment for lines on their way (commit delay, as PostgreSQL's
/// `commit_delay` or MySQL's `binlog_group_commit_sync_delay`, but adaptive): while exchanges whose answers may bring
/// a line are upstream, the thread holds its groups until the last of them is answered, at most `holdLimit`. At
/// 16 in flight this took syncs from about 2 exchanges each to about 14, and TenantGate's CPU per exchange from 133
/// to about 110 µs. With nothing upstream there is no wait at all.
///
/// When groups come one at a time (one exchange in flight), there is nothing to share a sync with and nothing for
/// the loop to serve meanwhile: the writer's own thread then syncs, which spares two thread wake-ups an exchange (on
/// this 2-core VM a wake-up of an idle core costs tens of µs, beside a sync of about 110).
final class AuditSyncWorker: Sendable {
    /// The longest a group waits for lines on their way: about ten syncs of this VM's disk, under 1% of an exchange
    /// with Entra (100–300 ms).
    static let defaultHoldLimit = DispatchTimeInterval.milliseconds(1)

    typealias Completion = AuditLog.Completion

    private struct Waiting {
        var groups: [(sequence: UInt64, completion: Completion)] = []
        /// Syncs running now, on this thread or a writer's.
        var syncing = 0
        var pace = SyncPace()
        var stopping = false
    }

    private let file: AuditFile
    private let holdLimit: DispatchTimeInterval
    private let waiting = Locked(Waiting())
    private let wakeUp = DispatchSemaphore(value: 0)
    /// Exchanges upstream whose answers may bring a line (`lineMayFollow`).
    private let linesMayFollow = Atomic<Int>(0)
    /// Whether the thread holds its groups for them: the last answer then wakes it.
    private let holding = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(file: AuditFile, holdLimit: DispatchTimeInterval = defaultHoldLimit) {
        self.file = file
        self.holdLimit = holdLimit
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
        } else if !holding.load(ordering: .sequentiallyConsistent) {
            // A holding thread takes this group with the others; the last line on its way wakes it.
            wakeUp.signal()
        }
    }

    /// An exchange went upstream: its answer may bring a line, which a sync under load waits for.
    func lineMayFollow() {
        linesMayFollow.add(1, ordering: .sequentiallyConsistent)
    }

    /// `count` exchanges of `lineMayFollow` were answered, and their lines (if any) handed to `whenDurable`.
    func linesFollowed(_ count: Int) {
        let left = linesMayFollow.subtract(count, ordering: .sequentiallyConsistent).newValue
        if left == 0, holding.load(ordering: .sequentiallyConsistent) { wakeUp.signal() }
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
            holdForLinesOnTheirWay()
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

    /// With groups waiting, waits while exchanges whose lines may follow are upstream, at most `holdLimit` (none when
    /// nothing is upstream). Groups that come meanwhile do not wake the thread; the last answer does.
    private func holdForLinesOnTheirWay() {
        guard waiting.withLock({ !$0.groups.isEmpty && !$0.stopping }) else { return }
        let deadline = DispatchTime.now() + holdLimit
        holding.store(true, ordering: .sequentiallyConsistent)
        while linesMayFollow.load(ordering: .sequentiallyConsistent) > 0, DispatchTime.now() < deadline {
            _ = wakeUp.wait(timeout: deadline)
        }
        holding.store(false, ordering: .sequentiallyConsistent)
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
