import Foundation
import Plumbing

/// The thread that makes event loops' lines durable (`AuditSync.always`) without holding a loop: a loop writes its
/// group and hands the wait to this thread; every group written while one `fdatasync` runs shares the next one
/// (group commit, as PostgreSQL's `commit_delay`), and each group's completions run once its lines are on disk.
final class AuditSyncWorker: Sendable {
    typealias Completion = AuditLog.Completion

    private struct Waiting {
        var groups: [(sequence: UInt64, completion: Completion)] = []
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

    /// `completion` runs on this thread once the write numbered `sequence` is on disk, or with the failure.
    func whenDurable(_ sequence: UInt64, completion: @escaping Completion) {
        waiting.withLock { $0.groups.append((sequence, completion)) }
        wakeUp.signal()
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
                return (state.groups, state.stopping)
            }
            if let last = groups.map(\.sequence).max() {
                let result = file.makeDurable(through: last).mapError { $0 as any Error }
                for group in groups { group.completion(result) }
            }
            if stopping {
                stopped.signal()
                return
            }
        }
    }
}
