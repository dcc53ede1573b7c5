import Foundation
import Plumbing
import Testing

@testable import Audit

/// `append(_:lineCount:whenDurable:)`, the event loops' way in: the write happens at once on the caller's thread,
/// the answer waits for the sync, and a sync that blocks holds the answer back (but not the caller).
struct DeferredSyncTests {
    /// A file system whose `fdatasync` waits until the test lets it go.
    final class GatedFileSystem: AuditFileSystem {
        let inner = FaultyFileSystem()
        let gate = DispatchSemaphore(value: 0)
        /// false: a sync only counts and passes the gate, so its time is the test's, not a loaded disk's.
        let reallySyncs: Bool

        init(reallySyncs: Bool = true) {
            self.reallySyncs = reallySyncs
        }

        func open(_ path: String) -> Result<Int32, SystemCallError> { inner.open(path) }
        func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemCallError> {
            inner.write(descriptor, bytes)
        }
        func dataSync(_ descriptor: Int32) -> Result<Void, SystemCallError> {
            gate.wait()
            guard reallySyncs else {
                inner.state.withLock { $0.syncs += 1 }
                return .success(())
            }
            return inner.dataSync(descriptor)
        }
        func identity(_ descriptor: Int32) -> FileIdentity? { inner.identity(descriptor) }
        func close(_ descriptor: Int32) { inner.close(descriptor) }
    }

    /// A log that syncs every group (`.always`) through `files`, holding groups under load at most `holdLimit`.
    static func alwaysSyncing(
        _ path: String,
        files: GatedFileSystem,
        holdLimit: DispatchTimeInterval = AuditSyncWorker.defaultHoldLimit
    ) throws -> AuditLog {
        try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: files, syncHoldLimit: holdLimit)
    }

    @Test func noAnswerUntilTheLinesAreDurableAndGroupsShareASync() async throws {
        let path = AuditDurabilityTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let files = GatedFileSystem()
        let log = try Self.alwaysSyncing(path, files: files)
        let answered = Locked(0)
        for group in 0..<3 {
            // Returns at once: the caller (an event loop) is not held by the sync.
            log.append(AuditDurabilityTests.lines(10, tag: "g\(group)"), lineCount: 10) { result in
                if case .success = result { answered.withLock { $0 += 1 } }
            }
        }
        #expect(try AuditDurabilityTests.fileLines(path).count == 30, "written before any sync")
        try await Task.sleep(for: .milliseconds(100))
        #expect(answered.withLock { $0 } == 0, "no answer while the sync has not returned")
        for _ in 0..<3 { files.gate.signal() }
        for _ in 0..<100 where answered.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(answered.withLock { $0 } == 3)
        #expect(files.inner.syncs <= 2, "groups written during one sync share the next")
        files.gate.signal()
        log.close()
    }

    /// One exchange at a time: nothing to share a sync with, so the writer's thread syncs and answers before
    /// `append` returns (two thread wake-ups fewer); a group written while that sync runs goes to the sync thread,
    /// and so do the next ones.
    @Test func groupsOneAtATimeSyncOnTheWritersThreadAndAGroupMeanwhileGoesToTheSyncThread() async throws {
        let path = AuditDurabilityTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let files = GatedFileSystem(reallySyncs: false)
        let log = try Self.alwaysSyncing(path, files: files)
        defer {
            files.gate.signal()
            log.close()
        }
        /// Appends one line; true when its answer ran on the calling thread, before returning.
        @Sendable @discardableResult func append(_ tag: String, answered: Locked<Int>) -> Bool {
            let caller = pthread_self()
            let onCaller = Locked(false)
            log.append(AuditDurabilityTests.lines(1, tag: tag), lineCount: 1) { result in
                if pthread_equal(pthread_self(), caller) != 0 { onCaller.withLock { $0 = true } }
                if case .success = result { answered.withLock { $0 += 1 } }
            }
            return onCaller.withLock { $0 }
        }
        for _ in 0..<16 { files.gate.signal() }
        var answeredOnCaller: [Bool] = []
        for group in 0..<16 {
            let answered = Locked(0)
            answeredOnCaller.append(append("alone\(group)", answered: answered))
            for _ in 0..<100 where answered.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(answeredOnCaller.prefix(10).allSatisfy { !$0 }, "the first groups go to the sync thread")
        #expect(answeredOnCaller.suffix(3).allSatisfy { $0 }, "groups one at a time sync on the caller's thread")
        #expect(files.inner.syncs == 16)

        // A writer's own sync holds (the gate is shut): a second group meanwhile returns at once, unanswered.
        let first = Locked(0)
        let second = Locked(0)
        Thread { append("first", answered: first) }.start()
        for _ in 0..<100 where files.inner.syncs == 16 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!append("meanwhile", answered: second), "to the sync thread, not held by the other writer's sync")
        files.gate.signal()
        files.gate.signal()
        for _ in 0..<100 where first.withLock({ $0 }) + second.withLock({ $0 }) < 2 {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(first.withLock { $0 } == 1 && second.withLock { $0 } == 1)
        // The next group, alone again, still goes to the sync thread: one overlap undoes the pace.
        let next = Locked(0)
        files.gate.signal()
        #expect(!append("next", answered: next))
        for _ in 0..<100 where next.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(next.withLock { $0 } == 1)
    }

    /// Commit delay: while exchanges whose lines may follow are upstream, the sync thread holds its groups (here
    /// without limit that matters: 60 s), and the last answer lets one sync serve every group.
    @Test func aSyncWaitsForTheLinesOfExchangesStillUpstreamAndServesThemAllAtOnce() async throws {
        let path = AuditDurabilityTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let files = GatedFileSystem(reallySyncs: false)
        for _ in 0..<4 { files.gate.signal() }
        let log = try Self.alwaysSyncing(path, files: files, holdLimit: .seconds(60))
        defer { log.close() }
        let answered = Locked(0)
        @Sendable func append(_ tag: String) {
            log.append(AuditDurabilityTests.lines(1, tag: tag), lineCount: 1) { result in
                if case .success = result { answered.withLock { $0 += 1 } }
            }
        }
        log.lineMayFollow()
        log.lineMayFollow()
        append("first")
        try await Task.sleep(for: .milliseconds(100))
        #expect(answered.withLock { $0 } == 0 && files.inner.syncs == 0, "held: two exchanges are upstream")
        append("second")
        log.linesFollowed(1)
        try await Task.sleep(for: .milliseconds(100))
        #expect(answered.withLock { $0 } == 0 && files.inner.syncs == 0, "held: one exchange is still upstream")
        log.linesFollowed(1)
        for _ in 0..<200 where answered.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(answered.withLock { $0 } == 2)
        #expect(files.inner.syncs == 1, "one sync for both groups")
    }

    /// An exchange that stays upstream holds a group no longer than the limit; with nothing upstream there is no
    /// wait at all. (Bounds far apart, so that a loaded machine cannot blur them.)
    @Test func aSyncWaitsNoLongerThanItsLimitAndNotAtAllWithNothingUpstream() async throws {
        let path = AuditDurabilityTests.temporaryPath()
        let otherPath = AuditDurabilityTests.temporaryPath()
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: otherPath)
        }
        let files = GatedFileSystem(reallySyncs: false)
        for _ in 0..<4 { files.gate.signal() }
        /// How long `append` took to be answered, at most 30 s.
        func timedAppend(_ log: AuditLog, _ tag: String) async throws -> Duration {
            let answered = Locked(false)
            let started = ContinuousClock.now
            log.append(AuditDurabilityTests.lines(1, tag: tag), lineCount: 1) { _ in answered.withLock { $0 = true } }
            for _ in 0..<3_000 where !answered.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            #expect(answered.withLock { $0 })
            return ContinuousClock.now - started
        }

        let unhurried = try Self.alwaysSyncing(path, files: files, holdLimit: .seconds(60))
        defer { unhurried.close() }
        #expect(try await timedAppend(unhurried, "alone") < .seconds(30), "nothing upstream: no hold of a minute")

        let brief = try Self.alwaysSyncing(otherPath, files: files, holdLimit: .milliseconds(300))
        defer { brief.close() }
        brief.lineMayFollow()
        let held = try await timedAppend(brief, "held")
        #expect(held >= .milliseconds(300) && held < .seconds(30), "held for the limit, then synced: \(held)")
        #expect(files.inner.syncs == 2)
    }

    @Test func syncPaceCallsGroupsSparseOnlyAfterADozenFoundNoSyncToShare() {
        var pace = SyncPace()
        #expect(!pace.groupsAreSparse, "no pace yet: the sync thread")
        for _ in 0..<10 { pace.groupArrived(whileSyncing: false) }
        #expect(!pace.groupsAreSparse, "ten groups alone are not yet enough")
        for _ in 0..<2 { pace.groupArrived(whileSyncing: false) }
        #expect(pace.groupsAreSparse, "a dozen groups alone")
        pace.groupArrived(whileSyncing: true)
        #expect(!pace.groupsAreSparse, "back to the sync thread at the first group that found one running")
        for _ in 0..<20 {
            pace.groupArrived(whileSyncing: false)
            pace.groupArrived(whileSyncing: true)
        }
        #expect(!pace.groupsAreSparse, "every other group sharing: the sync thread")
        for _ in 0..<20 { pace.groupArrived(whileSyncing: false) }
        #expect(pace.groupsAreSparse)
        for _ in 0..<4 { pace.syncTook(.milliseconds(5)) }
        #expect(!pace.groupsAreSparse, "syncs of milliseconds (a disk under strain) are not waited for on a loop")
        for _ in 0..<20 { pace.syncTook(.microseconds(100)) }
        #expect(pace.groupsAreSparse, "quick again")
    }
}
