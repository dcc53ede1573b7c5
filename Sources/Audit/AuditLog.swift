import Foundation
import Plumbing

/// The audit log sink: JSON Lines appended to a file.
///
/// Two ways in. The proxy's event loops group their own lines and hand each group to `append(_:lineCount:)`,
/// one `write(2)` per loop tick (see ProxyServer's `AuditBatch`). Everything else (admin changes, tests) uses
/// `record`, served by one writer thread with the same group commit: lines queued while a write is in progress
/// go out together in the next single `write(2)`. Either way a completion runs only once its bytes are in the
/// file, and with `AuditSync.always` on disk (one `fdatasync` per group, never per line), so the proxy can answer
/// after its line is written (SPEC 4), and a failed write is reported to every waiting completion. Writes hold the
/// file's lock, so lines from different writers never interleave, `reopen` (log rotation) never races a write, and
/// a line torn by a failed write (disk full) is ended with a newline before the next one.
package final class AuditLog: Sendable {
    package typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    private struct Pending {
        var lines: [[UInt8]] = []
        var completions: [Completion] = []
        var closed = false
    }

    private let destination: Destination
    private let queue = Locked(Pending())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let writtenCount = Locked(0)
    /// How long the writer thread sleeps between looks at an `.interval` sync; nil: until woken.
    private let syncPoll: DispatchTimeInterval?
    /// With `.always`: syncs the event loops' groups off the loops.
    private let syncWorker: AuditSyncWorker?
    /// Told every group of lines once written (the console's live activity); nil costs one lock per write.
    private let observer = Locked<(@Sendable ([UInt8]) -> Void)?>(nil)

    /// Where the bytes go: a file, or memory for tests.
    private enum Destination: Sendable {
        case file(AuditFile)
        case memory(MemorySink)
    }

    /// Opens (creating, mode 0640) and appends to `path`, syncing after every group write (`AuditSync.always`).
    package convenience init(path: String) throws {
        try self.init(path: path, sync: .always)
    }

    /// Opens (creating, mode 0640) and appends to `path`, syncing as `sync` says; `syncInterval` is the most often
    /// `.interval` syncs (and about how much a power cut may lose).
    package convenience init(path: String, sync: AuditSync, syncInterval: Duration = .seconds(1)) throws {
        try self.init(path: path, sync: sync, syncInterval: syncInterval, fileSystem: SystemFileSystem())
    }

    /// As `init(path:sync:syncInterval:)`, with the system calls of `fileSystem` (tests inject failures), how long
    /// a sync under load may wait for lines on their way, and the journal's size (tests make it wrap).
    convenience init(
        path: String,
        sync: AuditSync,
        syncInterval: Duration,
        fileSystem: any AuditFileSystem,
        syncHoldLimit: DispatchTimeInterval = AuditSyncWorker.defaultHoldLimit,
        journalCapacity: Int = AuditJournal.defaultCapacity
    ) throws {
        let file = try AuditFile(
            path: path,
            sync: sync,
            syncInterval: syncInterval,
            fileSystem: fileSystem,
            journalCapacity: journalCapacity
        )
        self.init(
            destination: .file(file),
            syncPoll: sync == .interval ? Self.dispatchInterval(syncInterval) : nil,
            syncHoldLimit: syncHoldLimit
        )
    }

    /// Keeps the lines in memory (tests).
    package convenience init(sink: MemorySink) {
        self.init(destination: .memory(sink), syncPoll: nil, syncHoldLimit: AuditSyncWorker.defaultHoldLimit)
    }

    private init(destination: Destination, syncPoll: DispatchTimeInterval?, syncHoldLimit: DispatchTimeInterval) {
        self.destination = destination
        self.syncPoll = syncPoll
        if case .file(let file) = destination, file.sync == .always {
            syncWorker = AuditSyncWorker(file: file, holdLimit: syncHoldLimit)
        } else {
            syncWorker = nil
        }
        let thread = Thread { [self] in self.writerLoop() }
        thread.name = "tenantgate-audit"
        thread.start()
    }

    /// What opening the log's journal did (`AuditFile.journalNote`): lines restored after a crash of the machine, or
    /// why each group is synced with `fdatasync` instead.
    package var journalNote: String? {
        if case .file(let file) = destination { file.journalNote } else { nil }
    }

    /// Queues one event; `completion` runs (on the writer thread) after its line is written, or with the error.
    package func record(_ event: AuditEvent, completion: @escaping Completion) {
        record(line: event.jsonLine(), completion: completion)
    }

    /// Queues a pre-rendered JSON line (admin-change lines).
    package func record(line: [UInt8], completion: @escaping Completion) {
        let accepted = queue.withLock { pending -> Bool in
            guard !pending.closed else { return false }
            pending.lines.append(line)
            pending.completions.append(completion)
            return true
        }
        if accepted {
            wakeUp.signal()
        } else {
            completion(.failure(AuditLogError(path: path, message: "the audit log is closed")))
        }
    }

    /// Writes whole lines now, on the calling thread, and reports whether they reached the file (and the disk, with
    /// `.always`). One `write(2)` and at most one `fdatasync`, whatever `lineCount`.
    package func append(_ bytes: [UInt8], lineCount: Int) -> Result<Void, any Error> {
        guard !queue.withLock({ $0.closed }) else {
            return .failure(AuditLogError(path: path, message: "the audit log is closed"))
        }
        let result = write(bytes)
        if case .success = result { writtenCount.withLock { $0 += lineCount } }
        return result
    }

    /// Writes whole lines now, on the calling thread (an event loop), and runs `whenDurable` once they are in the
    /// file, and with `.always` on disk. The `fdatasync` runs on the sync thread, shared by every group written
    /// meanwhile, so a loop serves its other connections while its lines are being synced; only when groups come
    /// one at a time does the caller sync them itself, before this returns (`AuditSyncWorker`).
    package func append(_ bytes: [UInt8], lineCount: Int, whenDurable: @escaping Completion) {
        guard case .file(let file) = destination, file.sync == .always, let syncWorker else {
            return whenDurable(append(bytes, lineCount: lineCount))
        }
        guard !queue.withLock({ $0.closed }) else {
            return whenDurable(.failure(AuditLogError(path: path, message: "the audit log is closed")))
        }
        switch file.writeUnsynced(bytes) {
        case .failure(let error):
            whenDurable(.failure(error))
        case .success(let written):
            writtenCount.withLock { $0 += lineCount }
            observer.withLock { $0 }?(bytes)
            syncWorker.whenDurable(written.sequence, completion: whenDurable)
        }
    }

    /// An exchange went upstream and its answer may bring a line: with `.always`, a sync under load waits a bounded
    /// moment for it (see `AuditSyncWorker`). Each call is matched by one `linesFollowed`.
    package func lineMayFollow() {
        syncWorker?.lineMayFollow()
    }

    /// `count` exchanges of `lineMayFollow` were answered, and their lines, if any, handed to `append`.
    package func linesFollowed(_ count: Int) {
        syncWorker?.linesFollowed(count)
    }

    /// Whether `lineMayFollow` is heard: only `.always` syncs wait for lines.
    package var waitsForLinesOnTheirWay: Bool { syncWorker != nil }

    /// Tells `observer` every group of whole lines once it is written (replacing any earlier observer). It runs on
    /// the writing thread, an event loop among them: it must only hand the bytes on.
    package func observeWrites(_ observer: @escaping @Sendable ([UInt8]) -> Void) {
        self.observer.withLock { $0 = observer }
    }

    package func recordAndWait(_ event: AuditEvent) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            record(event) { continuation.resume(with: $0) }
        }
    }

    /// Writes everything queued, then stops the writer. Later records fail.
    package func close() {
        let alreadyClosed = queue.withLock { pending -> Bool in
            defer { pending.closed = true }
            return pending.closed
        }
        guard !alreadyClosed else { return }
        wakeUp.signal()
        finished.wait()
        syncWorker?.stop()
        if case .file(let file) = destination { file.close() }
    }

    /// Closes the file and opens its path again, for log rotation: logrotate (`create` mode) renames the file, then
    /// signals; lines written from then on go to a new file at the path. Safe from any thread while event loops
    /// append: it waits for a write in progress, and syncs the old file's lines (except with `.never`) before
    /// closing it. When the path cannot be opened, the log keeps writing to the old file and this says why.
    package func reopen() -> Result<Void, any Error> {
        switch destination {
        case .file(let file): file.reopen().mapError { $0 }
        case .memory: .success(())
        }
    }

    /// Whether groups are made durable through the audit journal now, rather than by `fdatasync` of the log
    /// (`AuditFile.syncsThroughJournal`); false for any other destination.
    package var syncsThroughJournal: Bool {
        switch destination {
        case .file(let file): file.syncsThroughJournal
        case .memory: false
        }
    }

    /// Lines written so far.
    package var written: Int { writtenCount.withLock { $0 } }

    /// Bytes of the unfinished line that a write failing part-way (disk full) left at the end of the file; 0 when
    /// the file ends with a newline. The next write ends that fragment with a newline before its own lines, so a
    /// reader sees one malformed line, never two events glued together.
    package var tornFragmentBytes: Int {
        switch destination {
        case .file(let file): file.tornFragment
        case .memory: 0
        }
    }

    /// Syncs that failed so far: with `.interval` no completion waits for a sync, so this is where a failure shows.
    package var syncFailures: Int {
        switch destination {
        case .file(let file): file.syncFailures
        case .memory: 0
        }
    }

    private var path: String {
        switch destination {
        case .file(let file): file.path
        case .memory: "(memory)"
        }
    }

    private func writerLoop() {
        while true {
            if let syncPoll {
                _ = wakeUp.wait(timeout: .now() + syncPoll)
            } else {
                wakeUp.wait()
            }
            let (lines, completions, closed) = queue.withLock { pending in
                defer {
                    pending.lines.removeAll(keepingCapacity: true)
                    pending.completions.removeAll(keepingCapacity: true)
                }
                return (pending.lines, pending.completions, pending.closed)
            }
            if !lines.isEmpty {
                let result = write(lines.flatMap { $0 })
                if case .success = result { writtenCount.withLock { $0 += lines.count } }
                for completion in completions { completion(result) }
            }
            if case .file(let file) = destination { file.syncIfDue() }
            if closed {
                finished.signal()
                return
            }
        }
    }

    private func write(_ bytes: [UInt8]) -> Result<Void, any Error> {
        switch destination {
        case .memory(let sink):
            sink.append(bytes)
            observer.withLock { $0 }?(bytes)
            return .success(())
        case .file(let file):
            switch file.write(bytes) {
            case .written(let syncDue):
                if syncDue { wakeUp.signal() }  // the writer thread syncs; this write's completions do not wait
                observer.withLock { $0 }?(bytes)
                return .success(())
            case .failed(let error):
                return .failure(error)
            }
        }
    }

    /// `duration` for a semaphore wait: at least 1 ms, at most about 11 days.
    private static func dispatchInterval(_ duration: Duration) -> DispatchTimeInterval {
        let (seconds, attoseconds) = duration.components
        guard seconds < 1_000_000 else { return .seconds(1_000_000) }
        return .nanoseconds(max(1_000_000, Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
    }
}

/// In-memory audit destination for tests: the lines written, in order.
package final class MemorySink: Sendable {
    private let storage = Locked([UInt8]())
    package init() {}
    func append(_ bytes: [UInt8]) { storage.withLock { $0 += bytes } }
    package var lines: [String] {
        storage.withLock { String(decoding: $0, as: UTF8.self) }.split(separator: "\n").map(String.init)
    }
}

/// An audit log that cannot be opened or written, naming the file.
package struct AuditLogError: Error, CustomStringConvertible, Sendable {
    package let path: String
    package let message: String
    package var description: String { "audit log \(path): \(message)" }
}
