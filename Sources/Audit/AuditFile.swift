import Plumbing

#if canImport(Glibc)
import Glibc
#endif

/// The audit log's open file: the descriptor, what is on disk, and any unfinished line a failed write left.
///
/// Exists so that rotation, torn writes and syncing are decided in one place, under two locks:
/// - `state` guards the descriptor. Every write holds it, so a write never goes to a descriptor that `reopen` is
///   closing, a torn line is ended before anyone else writes, and writes from different event loops never meet.
///   It is held for `write(2)` only, never for a sync.
/// - `syncState` serialises syncs, and is taken before `state` by anything that closes a descriptor (reopen, close),
///   so a sync never runs on a closed descriptor. A writer that must sync first looks whether a sync that started
///   after its write has already covered it, so loops share syncs as PostgreSQL's commits share a WAL flush.
final class AuditFile: Sendable {
    /// What a write did.
    enum WriteOutcome {
        /// The bytes are in the file (and on disk with `.always`). With `.interval`, `syncDue` asks for a sync now.
        case written(syncDue: Bool)
        case failed(AuditLogError)
    }

    private struct State {
        var descriptor: Int32
        var identity: FileIdentity?
        /// Bytes of an unfinished line at the end of the file, left by a write that failed part-way; 0 when the file
        /// ends with a newline. The next write ends the fragment with "\n" first.
        var tornFragment: Int
        /// Writes that changed the file, counted: syncs are measured against this sequence.
        var writes: UInt64 = 0
        var lastSync: ContinuousClock.Instant
        /// With `.interval`: a writer already asked for the sync that is due.
        var syncRequested = false
        var closed = false
        /// With a journal: what was written since the last sync, for the next batch.
        var unjournaled: [AuditJournal.Chunk] = []
        /// With a journal: where the last write ended, to see the file cut under it.
        var end: UInt64 = 0
        /// With a journal: a write the journal cannot describe (the file was cut, or its offset is unknown), so the
        /// next sync must sync the log itself.
        var logMustSync = false
    }

    private struct SyncState {
        /// Every write up to this sequence number is on disk.
        var syncedThrough: UInt64 = 0
        /// A sync failed after the writes up to this sequence number: they are not known to be on disk.
        var failedThrough: UInt64 = 0
        var failures = 0
        /// Why the last failed sync failed.
        var lastFailure = ""
    }

    let path: String
    let sync: AuditSync
    private let syncInterval: Duration
    private let fileSystem: any AuditFileSystem
    private let state: Locked<State>
    private let syncState = Locked(SyncState())
    /// With `.always` on a file system with direct I/O: where syncs go instead of `fdatasync` of the log. Used under
    /// `syncState` only.
    private let journal: AuditJournal?
    /// What opening the journal did: lines restored after a crash, or why there is no journal.
    let journalNote: String?

    /// Opens `path` for appending (created with mode 0640). With `.always`, first replays the journal beside it,
    /// which puts back lines a crash of the machine took from it.
    init(
        path: String,
        sync: AuditSync,
        syncInterval: Duration,
        fileSystem: any AuditFileSystem,
        journalCapacity: Int = AuditJournal.defaultCapacity
    ) throws(AuditLogError) {
        switch fileSystem.keepsJournal ? Self.journalPlace(forLogAt: path) : .none {
        case .beside where sync == .always:
            (journal, journalNote) = try Self.openJournal(forLogAt: path, capacity: journalCapacity)
        case .beside:
            (journal, journalNote) = (nil, try Self.retireJournal(forLogAt: path, capacity: journalCapacity))
        case .none: (journal, journalNote) = (nil, nil)
        case .elsewhere(let note): (journal, journalNote) = (nil, sync == .always ? note : nil)
        }
        let descriptor: Int32
        switch fileSystem.open(path) {
        case .success(let opened): descriptor = opened
        case .failure(let error):
            journal?.close()
            throw AuditLogError(path: path, message: "cannot open the audit log for appending: \(error.sentence)")
        }
        self.path = path
        self.sync = sync
        self.syncInterval = syncInterval
        self.fileSystem = fileSystem
        self.state = Locked(
            State(
                descriptor: descriptor,
                identity: fileSystem.identity(descriptor),
                tornFragment: fileSystem.unterminatedTail(descriptor),
                lastSync: .now
            )
        )
    }

    /// Bytes of the unfinished line a failed write left at the end of the file; 0 when it ends with a newline.
    var tornFragment: Int { state.withLock { $0.tornFragment } }

    /// Syncs that failed so far.
    var syncFailures: Int { syncState.withLock { $0.failures } }

    /// Whether groups are made durable through the journal now; false without one (a pipe, no direct I/O, another
    /// process keeps it) or once a journal write failed, when each group is synced with `fdatasync`. Read without the
    /// sync lock, so a metrics scrape never waits for a sync.
    var syncsThroughJournal: Bool { journal?.isInUse ?? false }

    /// Appends `bytes` (whole lines) and, with `.always`, syncs them before returning.
    func write(_ bytes: [UInt8]) -> WriteOutcome {
        switch writeUnsynced(bytes) {
        case .failure(let error):
            return .failed(error)
        case .success(let written):
            switch sync {
            case .always:
                if case .failure(let error) = syncThrough(written.sequence) { return .failed(error) }
                return .written(syncDue: false)
            case .interval:
                return .written(syncDue: written.syncDue)
            case .never:
                return .written(syncDue: false)
            }
        }
    }

    /// Makes the write numbered `sequence` durable (`.always`): one `fdatasync` covers every write before it, so
    /// callers that wait together share it.
    func makeDurable(through sequence: UInt64) -> Result<Void, AuditLogError> {
        syncThrough(sequence)
    }

    /// Appends `bytes` (whole lines) without syncing: the write's number, and with `.interval` whether a sync is due.
    func writeUnsynced(_ bytes: [UInt8]) -> Result<(sequence: UInt64, syncDue: Bool), AuditLogError> {
        state.withLock { state -> Result<(sequence: UInt64, syncDue: Bool), AuditLogError> in
            guard !state.closed else { return .failure(error("the audit log is closed")) }
            if state.tornFragment > 0 {
                // One malformed line for a reader, never a fragment glued to the next event.
                let newline: [UInt8] = [UInt8(ascii: "\n")]
                let (_, failure) = newline.withUnsafeBytes { writeFully($0, to: state.descriptor) }
                if let failure {
                    return .failure(
                        error(
                            "write failed: \(failure.sentence); the \(state.tornFragment)-byte fragment of a line "
                                + "left by an earlier failed write is still unterminated"
                        )
                    )
                }
                state.tornFragment = 0
                state.writes += 1
                journalWrite(newline, count: 1, in: &state)
            }
            let (count, failure) = bytes.withUnsafeBytes { writeFully($0, to: state.descriptor) }
            if count > 0 {
                state.writes += 1
                journalWrite(bytes, count: count, in: &state)
            }
            guard let failure else {
                var syncDue = false
                if sync == .interval, !state.syncRequested, ContinuousClock.now - state.lastSync >= syncInterval {
                    state.syncRequested = true
                    syncDue = true
                }
                return .success((state.writes, syncDue))
            }
            guard count > 0 else { return .failure(error("write failed: \(failure.sentence)")) }
            let lineStart = bytes[..<count].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            state.tornFragment = count - lineStart
            let fragment =
                state.tornFragment == 0
                ? "it ended on a line boundary"
                : "the last \(state.tornFragment) bytes are the start of a line, which the next write ends first"
            return .failure(
                error("write failed after \(count) of \(bytes.count) bytes: \(failure.sentence); \(fragment)")
            )
        }
    }

    /// With `.interval`: syncs when something is unsynced and the last sync is at least one interval old.
    func syncIfDue() {
        guard sync == .interval else { return }
        syncState.withLock { syncState in
            let due = state.withLock { state in
                let unsynced = state.writes > max(syncState.syncedThrough, syncState.failedThrough)
                let due = !state.closed && unsynced && ContinuousClock.now - state.lastSync >= syncInterval
                // Not due (another sync covered it): the next write that finds one due may ask again.
                if !due { state.syncRequested = false }
                return due
            }
            if due { _ = syncAll(&syncState) }
        }
    }

    /// Closes the descriptor and opens `path` again: after logrotate renamed the file (`create` mode), lines go to
    /// the new file at the path. The old file's lines are synced first (except with `.never`). A failed open keeps
    /// the old descriptor.
    func reopen() -> Result<Void, AuditLogError> {
        let descriptor: Int32
        switch fileSystem.open(path) {
        case .success(let opened): descriptor = opened
        case .failure(let failure):
            return .failure(
                error("cannot reopen for appending: \(failure.sentence); still writing to the file opened before")
            )
        }
        let identity = fileSystem.identity(descriptor)
        let tail = fileSystem.unterminatedTail(descriptor)
        return syncState.withLock { syncState -> Result<Void, AuditLogError> in
            let swapped = state.withLock { state -> (descriptor: Int32, writes: UInt64)? in
                guard !state.closed else { return nil }
                defer {
                    state.descriptor = descriptor
                    // The same file again (nothing renamed it) keeps its unfinished line; a new file has its own.
                    if identity == nil || identity != state.identity { state.tornFragment = tail }
                    state.identity = identity
                    // The old file's lines are synced below, before anyone waiting for them hears so.
                    state.unjournaled = []
                    state.end = 0
                    state.logMustSync = false
                }
                return (state.descriptor, state.writes)
            }
            guard let old = swapped else {
                fileSystem.close(descriptor)
                return .failure(error("the audit log is closed"))
            }
            // Writers waiting to sync lines they wrote to the old file find them synced here.
            // Lines the journal holds are not yet on disk in the old file itself.
            if sync != .never, journal != nil || old.writes > max(syncState.syncedThrough, syncState.failedThrough) {
                let synced = record(fileSystem.dataSync(old.descriptor), through: old.writes, in: &syncState)
                // Every batch in the journal was of the old file (or older ones, synced at their reopen).
                if case .success = synced { journal?.checkpoint() }
            }
            fileSystem.close(old.descriptor)
            return .success(())
        }
    }

    /// Syncs what is unsynced (except with `.never`) and closes the file. Later writes fail.
    func close() {
        syncState.withLock { syncState in
            let closing = state.withLock { state -> (descriptor: Int32, writes: UInt64)? in
                guard !state.closed else { return nil }
                state.closed = true
                return (state.descriptor, state.writes)
            }
            guard let closing else { return }
            if sync != .never,
                journal != nil || closing.writes > max(syncState.syncedThrough, syncState.failedThrough)
            {
                let synced = record(fileSystem.dataSync(closing.descriptor), through: closing.writes, in: &syncState)
                // A clean stop leaves nothing to replay.
                if case .success = synced { journal?.checkpoint() }
            }
            fileSystem.close(closing.descriptor)
            journal?.close()
        }
    }

    /// Makes sure the write numbered `sequence` is on disk: a sync that started after it may already have done it.
    private func syncThrough(_ sequence: UInt64) -> Result<Void, AuditLogError> {
        syncState.withLock { syncState in
            if sequence <= syncState.failedThrough {
                return .failure(error("fdatasync failed: \(syncState.lastFailure)"))
            }
            if sequence <= syncState.syncedThrough { return .success(()) }
            return syncAll(&syncState)
        }
    }

    /// Syncs everything written so far. The caller holds `syncState`, so the descriptor stays open meanwhile.
    private func syncAll(_ syncState: inout SyncState) -> Result<Void, AuditLogError> {
        let (descriptor, writes, chunks, logMustSync) = state.withLock { state in
            defer {
                state.unjournaled = []
                state.logMustSync = false
            }
            return (state.descriptor, state.writes, state.unjournaled, state.logMustSync)
        }
        let fileSystem = self.fileSystem
        let result =
            journal?.makeDurable(chunks, logMustSync: logMustSync) { fileSystem.dataSync(descriptor) }
            ?? fileSystem.dataSync(descriptor)
        let now = ContinuousClock.now
        state.withLock { state in
            state.lastSync = now
            state.syncRequested = false
        }
        return record(result, through: writes, in: &syncState)
    }

    @discardableResult
    private func record(
        _ result: Result<Void, SystemCallError>,
        through writes: UInt64,
        in syncState: inout SyncState
    ) -> Result<Void, AuditLogError> {
        switch result {
        case .success:
            syncState.syncedThrough = max(syncState.syncedThrough, writes)
            return .success(())
        case .failure(let failure):
            // Linux may report a failed writeback once and then call the pages clean: never trust them again.
            syncState.failedThrough = max(syncState.failedThrough, writes)
            syncState.failures += 1
            syncState.lastFailure = failure.sentence
            return .failure(error("fdatasync failed: \(failure.sentence)"))
        }
    }

    /// With a journal: keeps the first `count` of `bytes`, just written, and where they went, for the next batch.
    private func journalWrite(_ bytes: [UInt8], count: Int, in state: inout State) {
        guard journal != nil else { return }
        // O_APPEND leaves the offset at the end of what was written: the file's length, whoever else wrote to it.
        let end = lseek(state.descriptor, 0, SEEK_CUR)
        guard end >= count, let identity = state.identity else {
            state.logMustSync = true
            return
        }
        let offset = UInt64(end - count)
        if offset < state.end { state.logMustSync = true }
        state.end = UInt64(end)
        state.unjournaled.append(
            .init(file: identity, offset: offset, bytes: count == bytes.count ? bytes : Array(bytes[..<count]))
        )
    }

    /// Replays the journal beside `path` (a crash may have left lines in it only), then opens it to write; without
    /// direct I/O (tmpfs) or a journal that cannot be written, the log syncs itself.
    /// - Parameter retiring: the journal is opened to be replayed and removed (`retireJournal`), not to be used.
    private static func openJournal(
        forLogAt path: String,
        capacity: Int,
        retiring: Bool = false
    ) throws(AuditLogError) -> (AuditJournal?, String?) {
        let journalPath = AuditJournal.path(forLogAt: path)
        // Locked (and checked) before it is read: the process that keeps it replays it at its own next start.
        let journal: AuditJournal
        switch AuditJournal.open(at: journalPath, capacity: capacity) {
        case .success(let opened): journal = opened
        case .failure(.keptByAnotherProcess):
            let instead = retiring ? "it is left to it" : "each group of lines is synced with fdatasync"
            return (nil, "the audit journal \(journalPath) is kept by another process writing this log: \(instead)")
        case .failure(let failure):
            return (nil, Self.noJournal(at: journalPath, because: failure.sentence))
        }
        let replayed: AuditJournalReplay.Outcome
        do {
            replayed = try AuditJournalReplay.replay(journal, logAt: path)
        } catch {
            journal.close()
            throw error
        }
        let restored =
            replayed.restoredBytes == 0
            ? nil
            : "restored \(replayed.restoredBytes) bytes of audit lines from the journal \(journalPath) to "
                + replayed.restoredFiles.joined(separator: ", ") + " after an unclean stop"
        if let failure = journal.start(checkpoint: replayed.lastSequence) {
            journal.close()
            let unavailable = Self.noJournal(at: journalPath, because: failure.sentence)
            return (nil, [restored, unavailable].compactMap { $0 }.joined(separator: "; "))
        }
        return (journal, restored)
    }

    /// A journal a run with `.always` left, under another mode now: replayed (its lines were acknowledged), then
    /// removed. Left in place, the next run with `.always` replayed its batches over whatever the log's file held by
    /// then, a `copytruncate` or a reused inode later (review 47 F1: 894 of 1,131 newer lines overwritten).
    private static func retireJournal(forLogAt path: String, capacity: Int) throws(AuditLogError) -> String? {
        let journalPath = AuditJournal.path(forLogAt: path)
        guard access(journalPath, F_OK) == 0 else { return nil }
        let (journal, note) = try openJournal(forLogAt: path, capacity: capacity, retiring: true)
        guard let journal else { return note }
        _ = unlink(journalPath)
        journal.close()
        return note
    }

    private static func noJournal(at journalPath: String, because reason: String) -> String {
        "no audit journal at \(journalPath) (\(reason)): each group of lines is synced with fdatasync"
    }

    /// Whether a journal beside the log's path would be beside the file: `.none` for a pipe or terminal, which has no
    /// disk to journal for; `.elsewhere` for a symbolic link or a file mounted on its own (a container's bind mount),
    /// whose file lies on another file system than the path's directory. `/dev/stdout` redirected to a file put the
    /// journal in /dev, a tmpfs, where it stood in for every sync of the file itself and could never be replayed.
    private enum JournalPlace {
        case beside
        case none
        case elsewhere(note: String)
    }

    private static func journalPlace(forLogAt path: String) -> JournalPlace {
        var file = stat()
        guard lstat(path, &file) == 0 else { return .beside }  // made in its directory, on the journal's file system
        switch file.st_mode & S_IFMT {
        case S_IFREG:
            let directory = AuditJournal.directory(ofLogAt: path)
            var parent = stat()
            guard stat(directory.isEmpty ? "." : directory, &parent) == 0, parent.st_dev == file.st_dev else {
                return .elsewhere(note: "no audit journal: \(path) is a file mounted on its own" + fallback)
            }
            return .beside
        case S_IFLNK:
            return .elsewhere(note: "no audit journal: \(path) is a symbolic link" + fallback)
        default:
            return .none
        }
    }

    private static let fallback = "; each group of lines is synced with fdatasync"

    /// Writes all of `bytes`, with as many `write(2)` calls as a short write makes it take; on failure, how many
    /// bytes went in before it.
    private func writeFully(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) -> (Int, SystemCallError?) {
        var offset = 0
        while offset < bytes.count {
            switch fileSystem.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .success(let count) where count > 0:
                offset += count
            case .success:
                // write(2) of a regular file returns 0 for a non-empty buffer only on a broken file system.
                return (offset, SystemCallError(code: EIO))
            case .failure(let failure) where failure.code == EINTR:
                continue
            case .failure(let failure):
                return (offset, failure)
            }
        }
        return (offset, nil)
    }

    private func error(_ message: String) -> AuditLogError {
        AuditLogError(path: path, message: message)
    }
}
