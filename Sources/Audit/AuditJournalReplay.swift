import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Puts back into the audit log what a crash of the machine (a power cut, a kernel panic) took from it: the lines
/// whose answers left once they were in the journal, but which the log's own pages had not yet reached the disk
/// with.
///
/// Every batch after the journal's checkpoint is read in order, and each chunk is written again at its offset in the
/// file it was written to (found by device and inode: rotation may have renamed it beside the log), where the file's
/// bytes differ. A chunk beyond the file's end is left out: the file was cut (copytruncate) after it was written.
/// A journal written in the running boot is not replayed (`BootID`): the files its batches name are synced instead.
/// The files written to are synced before the journal starts over, so a crash during the replay replays again.
enum AuditJournalReplay {
    struct Outcome: Equatable {
        /// The last batch read: the checkpoint the journal starts over from.
        var lastSequence: UInt64
        var restoredBytes = 0
        /// The files (paths) bytes were written back to.
        var restoredFiles: [String] = []
        /// The files synced before the journal starts over: those written back to, and in the running boot those
        /// the batches name.
        var syncedFiles: [String] = []
    }

    /// Replays `journal` (as read through its own checked descriptor) into the log at `logPath` and the files beside
    /// it. An empty journal (a first start) replays nothing. A journal whose checkpoint cannot be read was torn while
    /// the checkpoint was written, after the log's sync that made everything in it durable: nothing to replay, and it
    /// starts over from a number no batch left in it can have.
    static func replay(_ journal: AuditJournal, logAt logPath: String) throws(AuditLogError) -> Outcome {
        let bytes: [UInt8]
        switch journal.contents() {
        case .success(let read): bytes = read
        case .failure(let failure):
            throw AuditLogError(path: journal.path, message: "cannot read the audit journal: \(failure.sentence)")
        }
        guard !bytes.isEmpty else { return Outcome(lastSequence: 0) }
        var failure: AuditLogError?
        let outcome = bytes.withUnsafeBytes { bytes in
            do throws(AuditLogError) {
                return try replay(bytes, logAt: logPath)
            } catch {
                failure = error
                return Outcome(lastSequence: 0)
            }
        }
        if let failure { throw failure }
        return outcome
    }

    private static func replay(_ bytes: UnsafeRawBufferPointer, logAt logPath: String) throws(AuditLogError) -> Outcome
    {
        let blockSize = JournalFormat.blockSize
        guard bytes.count >= blockSize,
            let checkpoint = JournalFormat.decodeCheckpoint(UnsafeRawBufferPointer(rebasing: bytes[..<blockSize]))
        else { return Outcome(lastSequence: UInt64.random(in: 1 << 40..<1 << 62)) }
        var outcome = Outcome(lastSequence: checkpoint.sequence)
        // Written in this boot: the log's pages hold it all, so the batches are only counted.
        let restores = checkpoint.boot == nil || checkpoint.boot != BootID.current
        var files = LogFiles(logPath: logPath)
        defer { files.closeAll() }
        var position = blockSize
        while position < bytes.count,
            let batch = JournalFormat.decodeBatch(
                UnsafeRawBufferPointer(rebasing: bytes[position...]),
                sequence: outcome.lastSequence &+ 1
            )
        {
            for chunk in batch.chunks {
                // Its lines are in the page cache, not yet known to be on disk: synced below before the journal that
                // holds them starts over (review 62 F1: a restart right after a kill -9, then a power cut, lost them).
                guard restores else {
                    files.syncLater(chunk.file)
                    continue
                }
                guard let written = try files.restore(chunk), written > 0 else { continue }
                outcome.restoredBytes += written
                if let path = files.path(of: chunk.file), !outcome.restoredFiles.contains(path) {
                    outcome.restoredFiles.append(path)
                }
            }
            outcome.lastSequence &+= 1
            position += batch.size
        }
        outcome.syncedFiles = try files.syncWritten()
        return outcome
    }
}

/// The files a replay writes to, found by identity and opened once each.
private struct LogFiles {
    private struct Open {
        let path: String
        let descriptor: Int32
        var written = false
    }

    let logPath: String
    private var opened: [FileIdentity: Open] = [:]
    /// Identities found in no file: their chunks are skipped.
    private var missing: Set<FileIdentity> = []

    init(logPath: String) {
        self.logPath = logPath
    }

    func path(of file: FileIdentity) -> String? { opened[file]?.path }

    /// Writes `chunk` back where its file's bytes differ: how many bytes were written, or nil when its file is gone
    /// or was cut short of it.
    mutating func restore(_ chunk: AuditJournal.Chunk) throws(AuditLogError) -> Int? {
        guard var file = try open(chunk.file) else { return nil }
        var info = stat()
        guard fstat(file.descriptor, &info) == 0, chunk.offset <= UInt64(info.st_size) else { return nil }
        var present = [UInt8](repeating: 0, count: chunk.bytes.count)
        let read = present.withUnsafeMutableBytes {
            pread(file.descriptor, $0.baseAddress, $0.count, off_t(chunk.offset))
        }
        if read == chunk.bytes.count, present == chunk.bytes { return 0 }
        let written = chunk.bytes.withUnsafeBytes {
            pwrite(file.descriptor, $0.baseAddress, $0.count, off_t(chunk.offset))
        }
        guard written == chunk.bytes.count else {
            throw AuditLogError(
                path: file.path,
                message:
                    "cannot restore lines from the audit journal: \(SystemCallError(code: written < 0 ? errno : EIO).sentence)"
            )
        }
        file.written = true
        opened[chunk.file] = file
        return written
    }

    /// Has `identity`'s file synced with the restored ones, though nothing is written to it.
    /// Opened to read only (a sync needs no more), and passed over when it cannot be: a rotated file made read-only
    /// must not stop the start that would only have synced it (review 65).
    mutating func syncLater(_ identity: FileIdentity) {
        guard var file = try? open(identity, writing: false), !file.written else { return }
        file.written = true
        opened[identity] = file
    }

    /// Puts the restored bytes (and those `syncLater` names) on disk before the journal that held them starts over.
    /// - Returns: the paths synced.
    func syncWritten() throws(AuditLogError) -> [String] {
        for file in opened.values where file.written && fdatasync(file.descriptor) != 0 {
            throw AuditLogError(
                path: file.path,
                message: "cannot sync lines restored from the audit journal: \(SystemCallError(code: errno).sentence)"
            )
        }
        return opened.values.filter(\.written).map(\.path).sorted()
    }

    func closeAll() {
        for file in opened.values { _ = close(file.descriptor) }
    }

    private mutating func open(_ identity: FileIdentity, writing: Bool = true) throws(AuditLogError) -> Open? {
        if let file = opened[identity] { return file }
        guard !missing.contains(identity), let path = find(identity) else {
            missing.insert(identity)
            return nil
        }
        let descriptor = Glibc.open(path, (writing ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw AuditLogError(
                path: path,
                message: "cannot open to restore lines from the audit journal: \(SystemCallError(code: errno).sentence)"
            )
        }
        // The name was found by the file's identity; a file put in its place since is not written to.
        var info = stat()
        guard fstat(descriptor, &info) == 0, FileIdentity(info) == identity else {
            _ = close(descriptor)
            missing.insert(identity)
            return nil
        }
        let file = Open(path: path, descriptor: descriptor)
        opened[identity] = file
        return file
    }

    /// The log itself, or a file beside it that rotation renamed it to.
    private func find(_ identity: FileIdentity) -> String? {
        if Self.identity(of: logPath) == identity { return logPath }
        let directory = (logPath as NSString).deletingLastPathComponent
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory)) ?? []
        return entries.lazy
            .map { directory.isEmpty ? $0 : "\(directory)/\($0)" }
            .first { Self.identity(of: $0) == identity }
    }

    private static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(info)
    }
}
