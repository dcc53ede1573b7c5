import Foundation
import Testing

@testable import Audit

#if canImport(Glibc)
import Glibc
#endif

/// Issue 26: `--audit-fsync always` puts each group in the write-ahead journal beside the log, and a crash of the
/// machine that takes the log's unsynced pages loses no acknowledged line. A power cut is played by cutting or
/// zeroing the log where its pages had not reached the disk.
@Suite(.serialized)
struct AuditJournalTests {
    static func open(_ path: String, capacity: Int = AuditJournal.defaultCapacity) throws -> AuditLog {
        try AuditLog(
            path: path,
            sync: .always,
            syncInterval: .seconds(1),
            fileSystem: SystemFileSystem(),
            journalCapacity: capacity
        )
    }

    /// Appends `count` groups of one line each, every one acknowledged (on disk) before the next.
    static func appendGroups(_ log: AuditLog, _ count: Int, tag: String) throws {
        for index in 0..<count {
            try log.append(AuditDurabilityTests.lines(1, tag: "\(tag)-\(index)"), lineCount: 1).get()
        }
    }

    /// Opens the log at `path` again while `written` still has it open, as the next start after a crash of the
    /// machine would find it; `check` looks at what the replay did; both logs are closed after.
    static func restart(
        _ path: String,
        after written: AuditLog,
        capacity: Int = AuditJournal.defaultCapacity,
        _ check: (AuditLog) throws -> Void
    ) throws {
        releaseJournalLock(of: path)
        startedInAnotherBoot(path)
        let restarted = try open(path, capacity: capacity)
        try check(restarted)
        restarted.close()
        written.close()
    }

    /// A crash of the machine starts a new boot: the journal's checkpoint names another one (here none, as an older
    /// journal's), so its batches are replayed.
    static func startedInAnotherBoot(_ path: String) {
        overwrite(AuditJournal.path(forLogAt: path), at: 16, with: [UInt8](repeating: 0, count: 40))
    }

    /// A crash releases the journal's lock with the process: released here by hand from the log that stays open
    /// (its descriptors let the test play the pages a power cut takes), through the descriptor that holds it.
    static func releaseJournalLock(of path: String) {
        for descriptor in journalDescriptors(of: path) {
            #expect(flock(descriptor, LOCK_UN) == 0)
        }
    }

    /// The descriptors open on the journal of the log at `path`, found through `/proc/self/fd`.
    static func journalDescriptors(of path: String) -> [Int32] {
        let journal = URL(fileURLWithPath: AuditJournal.path(forLogAt: path)).resolvingSymlinksInPath().path
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return descriptors.compactMap { entry in
            guard let descriptor = Int32(entry),
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")) == journal
            else { return nil }
            return descriptor
        }
    }

    /// A journal whose write fails while the proxy runs (a faulty device, played by putting a read-only descriptor
    /// where the journal's was) is left for good: that group and every later one are synced with `fdatasync`, each is
    /// still acknowledged, none is lost, the gauge's state says so, and the next start finds the log whole.
    @Test func aJournalWriteThatFailsWhileRunningFallsBackToFdatasyncAndLosesNoLine() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 3, tag: "journaled")
        #expect(written.syncsThroughJournal)
        let journalDescriptors = Self.journalDescriptors(of: path)
        try #require(journalDescriptors.count == 1)
        let readOnly = Glibc.open(AuditJournal.path(forLogAt: path), O_RDONLY)
        try #require(readOnly >= 0)
        #expect(dup2(readOnly, journalDescriptors[0]) == journalDescriptors[0])
        _ = close(readOnly)

        try Self.appendGroups(written, 4, tag: "after-the-fault")
        #expect(!written.syncsThroughJournal, "the journal is left after its write failed")
        let lines = try AuditDurabilityTests.fileLines(path)
        #expect(lines.count == 7)
        #expect(lines.last?.contains("after-the-fault-3") == true)
        let original = try Self.contents(path)
        written.close()

        let restarted = try Self.open(path)
        #expect(try Self.contents(path) == original, "nothing replayed over or lost")
        #expect(restarted.syncsThroughJournal, "a new start opens a journal again")
        restarted.close()
    }

    /// Two writers of one log (two processes given the same `--audit-log`): the first keeps the journal; the second
    /// neither replays it nor starts it over, and syncs its own groups with `fdatasync`. So a crash loses none of the
    /// first writer's lines, and the journal is free again once the first closes.
    @Test func aSecondWriterOfTheSameLogLeavesTheJournalToTheFirst() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let first = try Self.open(path)
        try Self.appendGroups(first, 5, tag: "first")
        let second = try Self.open(path)
        #expect(second.journalNote?.contains("kept by another process") == true, "\(second.journalNote ?? "")")
        #expect(first.syncsThroughJournal && !second.syncsThroughJournal)
        try Self.appendGroups(second, 3, tag: "second")
        let syncedSize = try Self.contents(path).count
        try Self.appendGroups(first, 5, tag: "first-later")
        let original = try Self.contents(path)
        second.close()
        Self.cut(path, to: syncedSize)
        try Self.restart(path, after: first) { (restarted) throws in
            #expect(restarted.journalNote?.contains("restored") == true, "\(restarted.journalNote ?? "")")
            #expect(try Self.contents(path) == original, "the first writer's later lines are back")
        }
        let third = try Self.open(path)
        #expect(third.journalNote == nil, "the journal is free once its keeper closed")
        third.close()
    }

    /// A log of `groups` acknowledged groups, closed cleanly (synced, the journal at a checkpoint).
    static func closedLog(_ groups: Int, tag: String) throws -> String {
        let path = AuditDurabilityTests.temporaryPath()
        let log = try open(path)
        try appendGroups(log, groups, tag: tag)
        log.close()
        return path
    }

    /// Writes `bytes` over the file at `path` from `offset`, as a crash or a torn write leaves it.
    static func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) {
        let descriptor = Glibc.open(path, O_WRONLY)
        #expect(bytes.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) } == bytes.count)
        _ = close(descriptor)
    }

    static func contents(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    static func cut(_ path: String, to size: Int) {
        #expect(truncate(path, off_t(size)) == 0)
    }

    enum PowerCut: String, CaseIterable, CustomTestStringConvertible {
        case everything = "the whole log lost"
        case halfTheLastLine = "the log cut inside its last line"
        case zerosInTheMiddle = "zeros over a line in the middle"
        var testDescription: String { rawValue }
    }

    @Test(arguments: PowerCut.allCases)
    func linesAcknowledgedThroughTheJournalSurviveLosingTheLogsPages(_ cut: PowerCut) throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        #expect(written.journalNote == nil, "the journal is in use and had nothing to restore")
        try Self.appendGroups(written, 20, tag: "acknowledged")
        let original = try Self.contents(path)
        let lineLength = original.count / 20
        switch cut {
        case .everything:
            Self.cut(path, to: 0)
        case .halfTheLastLine:
            Self.cut(path, to: original.count - lineLength / 2)
        case .zerosInTheMiddle:
            Self.overwrite(path, at: 10 * lineLength, with: [UInt8](repeating: 0, count: lineLength))
        }
        #expect(try Self.contents(path) != original)

        try Self.restart(path, after: written) { (restarted) throws in
            #expect(restarted.journalNote?.contains("restored") == true, "\(restarted.journalNote ?? "no note")")
            #expect(try Self.contents(path) == original)
        }
    }

    /// A child process spawned by another thread holds a copy of every descriptor from its fork until its exec
    /// closes them, and with it the journal's lock (`flock` belongs to the open file, not the descriptor). A log
    /// closed meanwhile must still give its journal up: the next open of the same log uses it, not `fdatasync`.
    @Test func aClosedLogGivesItsJournalUpWhileACopyOfTheDescriptorLingers() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let first = try Self.open(path)
        let descriptors = Self.journalDescriptors(of: path)
        try #require(descriptors.count == 1)
        // A child between fork and exec, played by a copy in this process.
        let lingering = dup(descriptors[0])
        try #require(lingering >= 0)
        defer { _ = close(lingering) }
        first.close()

        let next = try Self.open(path)
        #expect(next.journalNote == nil, "\(next.journalNote ?? "")")
        #expect(next.syncsThroughJournal)
        next.close()
    }

    @Test func aCleanCloseLeavesNothingToReplay() throws {
        let path = try Self.closedLog(5, tag: "closed")
        let lines = try AuditDurabilityTests.fileLines(path)
        let shortened = lines.dropLast().reduce(0) { $0 + $1.utf8.count + 1 }
        // Cut after the close: the operator's doing, which the journal must not undo.
        Self.cut(path, to: shortened)

        let reopened = try Self.open(path)
        #expect(reopened.journalNote == nil)
        #expect(try AuditDurabilityTests.fileLines(path).count == 4)
        reopened.close()
    }

    /// A checkpoint is written only once the log is synced, so one torn by a crash has nothing after it to replay: the
    /// journal starts over from a new number, the log stays as it was, and lines from then on are journaled again.
    @Test func aTornCheckpointStartsTheJournalOverAndLosesNothing() throws {
        let path = try Self.closedLog(5, tag: "synced")
        let synced = try Self.contents(path)
        // Half of the sequence number new, half old: the checkpoint's CRC no longer holds.
        Self.overwrite(AuditJournal.path(forLogAt: path), at: 12, with: [UInt8](repeating: 0xA5, count: 4))

        let reopened = try Self.open(path)
        #expect(reopened.journalNote == nil, "nothing restored, the journal in use: \(reopened.journalNote ?? "")")
        #expect(try Self.contents(path) == synced)
        try Self.appendGroups(reopened, 3, tag: "after")
        let original = try Self.contents(path)
        Self.cut(path, to: synced.count)
        try Self.restart(path, after: reopened) { (restarted) throws in
            #expect(try Self.contents(path) == original, "lines after the torn checkpoint come back")
        }
    }

    /// The journal's numbers wrap rather than trap: a checkpoint read back as the last number there is (a damaged
    /// or made-up file that still passes its check) is followed by batch 0, which a replay reads as the next.
    @Test func aCheckpointAtTheLastNumberWrapsAndLosesNothing() throws {
        let path = try Self.closedLog(1, tag: "before-the-wrap")
        var block = [UInt8](repeating: 0, count: JournalFormat.blockSize)
        block.withUnsafeMutableBytes { JournalFormat.encodeCheckpoint(UInt64.max, boot: nil, into: $0.baseAddress!) }
        Self.overwrite(AuditJournal.path(forLogAt: path), at: 0, with: block)
        let written = try Self.open(path)
        let synced = try Self.contents(path).count
        try Self.appendGroups(written, 3, tag: "after-the-wrap")
        let original = try Self.contents(path)
        Self.cut(path, to: synced)
        try Self.restart(path, after: written) { (restarted) throws in
            #expect(restarted.journalNote?.contains("restored") == true, "\(restarted.journalNote ?? "no note")")
            #expect(try Self.contents(path) == original)
        }
    }

    @Test func aTornBatchEndsTheReplay() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 10, tag: "batch")
        let original = try AuditDurabilityTests.fileLines(path)
        Self.cut(path, to: 0)
        // Each one-line batch takes one block after the checkpoint's: flip a byte in the sixth one's line.
        let journal = AuditJournal.path(forLogAt: path)
        let offset = 6 * JournalFormat.blockSize + 100
        Self.overwrite(journal, at: offset, with: [try Self.contents(journal)[offset] ^ 0xFF])

        try Self.restart(path, after: written) { (_) throws in
            #expect(try AuditDurabilityTests.fileLines(path) == Array(original.prefix(5)))
        }
    }

    @Test func aLogCutUnderTheProxyIsNotRefilledWithItsOldLines() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 10, tag: "before-the-cut")
        // copytruncate: the file keeps its inode and starts again from nothing.
        Self.cut(path, to: 0)
        try Self.appendGroups(written, 3, tag: "after-the-cut")
        let after = try AuditDurabilityTests.fileLines(path)
        #expect(after.count == 3)
        // The first group after the cut synced the log itself; a power cut takes the two after it.
        Self.cut(path, to: after[0].utf8.count + 1)

        try Self.restart(path, after: written) { (_) throws in
            #expect(try AuditDurabilityTests.fileLines(path) == after)
        }
    }

    /// A process that dies (kill -9, a crash) leaves every write it made in the page cache: a start in the same boot
    /// replays nothing. Review 59 F2: after a copytruncate emptied the log, a kill -9 before the next line made the
    /// next start write every line of the journal back into it (each then twice, once in the rotated copy), or over
    /// the lines another writer had put there since.
    @Test func aJournalOfThisBootIsNotReplayedOverALogEmptiedSince() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 10, tag: "rotated")
        Self.cut(path, to: 0)
        let other = try AuditLog(path: path, sync: .never, syncInterval: .seconds(1), fileSystem: SystemFileSystem())
        try other.append(AuditDurabilityTests.lines(1, tag: "another-writer"), lineCount: 1).get()
        other.close()
        let since = try Self.contents(path)
        Self.releaseJournalLock(of: path)
        let restarted = try Self.open(path)
        #expect(restarted.journalNote == nil, "\(restarted.journalNote ?? "")")
        #expect(try Self.contents(path) == since)
        restarted.close()
        written.close()
    }

    /// Not replayed in the same boot, the lines the journal holds are still only in the page cache: the log is synced
    /// before the journal starts over, or a power cut after the restart lost them (review 62 F1).
    @Test func aJournalOfThisBootHasItsLogSyncedBeforeItStartsOver() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 3, tag: "in-the-page-cache")
        Self.releaseJournalLock(of: path)
        let journal = try AuditJournal.open(at: AuditJournal.path(forLogAt: path)).get()
        let outcome = try AuditJournalReplay.replay(journal, logAt: path)
        #expect(outcome.restoredBytes == 0 && outcome.syncedFiles == [path])
        journal.close()
        written.close()
    }

    /// A journal a crashed run with `always` left, found by a start with another mode: its lines are put back, then
    /// it is removed. Left in place, the next start with `always` replayed it over whatever the log held by then
    /// (review 47 F1: a `copytruncate` in between, and 894 of 1,131 newer lines were overwritten).
    @Test func aJournalFoundUnderAnotherModeIsReplayedThenRemoved() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 10, tag: "acknowledged")
        let original = try Self.contents(path)
        Self.cut(path, to: original.count / 2)
        Self.releaseJournalLock(of: path)
        Self.startedInAnotherBoot(path)
        let interval = try AuditLog(
            path: path,
            sync: .interval,
            syncInterval: .seconds(1),
            fileSystem: SystemFileSystem()
        )
        #expect(interval.journalNote?.contains("restored") == true, "\(interval.journalNote ?? "no note")")
        #expect(try Self.contents(path) == original)
        #expect(access(AuditJournal.path(forLogAt: path), F_OK) != 0, "the journal is gone")
        // copytruncate, then newer lines, then a start with `always`: nothing old comes back over them.
        Self.cut(path, to: 0)
        try Self.appendGroups(interval, 12, tag: "newer")
        interval.close()
        written.close()
        let newer = try Self.contents(path)
        let always = try Self.open(path)
        #expect(always.journalNote == nil, "\(always.journalNote ?? "")")
        #expect(try Self.contents(path) == newer)
        always.close()
    }

    /// A start under another mode leaves a journal another process keeps (and uses) alone, and says so in its own
    /// words: not "each group is synced with fdatasync", which is what `always` does without one (review 48).
    @Test func aJournalKeptByAnotherWriterIsLeftToItUnderAnotherMode() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let first = try Self.open(path)
        let second = try AuditLog(path: path, sync: .never, syncInterval: .seconds(1), fileSystem: SystemFileSystem())
        #expect(second.journalNote?.hasSuffix("is kept by another process writing this log: it is left to it") == true)
        #expect(access(AuditJournal.path(forLogAt: path), F_OK) == 0)
        #expect(first.syncsThroughJournal)
        second.close()
        first.close()
    }

    @Test func linesOfALogRenamedByRotationGoBackToTheRenamedFile() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 5, tag: "rotated")
        let original = try Self.contents(path)
        // logrotate renamed the log, and the machine stopped before the proxy reopened it.
        let rotated = path + ".1"
        #expect(rename(path, rotated) == 0)
        Self.cut(rotated, to: original.count / 2)

        try Self.restart(path, after: written) { (restarted) throws in
            #expect(try Self.contents(rotated) == original)
            #expect(try Self.contents(path).isEmpty)
            #expect(restarted.journalNote?.contains(rotated) == true)
        }
    }

    @Test func aFullJournalSyncsTheLogAndStartsOverWithoutLosingALine() throws {
        let path = AuditDurabilityTests.temporaryPath()
        // Room for two one-block batches after the checkpoint: every third group syncs the log and starts over.
        let capacity = 3 * JournalFormat.blockSize
        let written = try Self.open(path, capacity: capacity)
        try Self.appendGroups(written, 10, tag: "lap")
        let original = try Self.contents(path)
        let journalSize =
            try FileManager.default.attributesOfItem(
                atPath: AuditJournal.path(forLogAt: path)
            )[.size] as? Int
        #expect(journalSize == capacity)
        let lineLength = original.count / 10
        // The ninth group synced the log and started the journal over; the tenth is in its first block: lose it.
        Self.cut(path, to: original.count - lineLength)

        try Self.restart(path, after: written, capacity: capacity) { (_) throws in
            #expect(try Self.contents(path) == original)
        }
    }

    /// Batches are written within the journal's capacity only, and only that much is read back: a journal grown past
    /// it (sparse, by whoever may write the file) made a start read it all, twice over (review 59 F4).
    @Test func aJournalGrownPastItsCapacityIsReadOnlyThatFar() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let capacity = 3 * JournalFormat.blockSize
        let written = try Self.open(path, capacity: capacity)
        try Self.appendGroups(written, 2, tag: "kept")
        let original = try Self.contents(path)
        let journalPath = AuditJournal.path(forLogAt: path)
        #expect(truncate(journalPath, 1 << 30) == 0)
        Self.cut(path, to: 0)
        Self.releaseJournalLock(of: path)
        Self.startedInAnotherBoot(path)
        let journal = try AuditJournal.open(at: journalPath, capacity: capacity).get()
        #expect(try journal.contents().get().count == capacity)
        journal.close()
        try Self.restart(path, after: written, capacity: capacity) { (_) throws in
            #expect(try Self.contents(path) == original, "what lies within the capacity is replayed")
        }
    }

    /// `/dev/stdout` redirected to a file is a symbolic link to it: a journal beside the link would be in /dev (a
    /// tmpfs), outlive nothing, and stand in for the file's own syncs. A link gets none; its groups are fdatasynced.
    @Test func aLogThatIsASymbolicLinkHasNoJournal() throws {
        let target = AuditDurabilityTests.temporaryPath()
        let link = AuditDurabilityTests.temporaryPath()
        #expect(FileManager.default.createFile(atPath: target, contents: nil))
        #expect(symlink(target, link) == 0)
        defer {
            unlink(link)
            unlink(target)
        }
        let log = try Self.open(link)
        #expect(!log.syncsThroughJournal)
        #expect(log.journalNote?.contains("is a symbolic link; each group of lines is synced with fdatasync") == true)
        try Self.appendGroups(log, 3, tag: "linked")
        log.close()
        #expect(try AuditDurabilityTests.fileLines(target).count == 3)
        #expect(!FileManager.default.fileExists(atPath: AuditJournal.path(forLogAt: link)))
        #expect(!FileManager.default.fileExists(atPath: AuditJournal.path(forLogAt: target)))
    }

    enum StrangerAtTheJournalsName: String, CaseIterable, CustomTestStringConvertible {
        case symbolicLink = "a symbolic link to another file"
        case danglingLink = "a symbolic link to no file yet"
        case hardLink = "a second name of another file"
        case fifo = "a FIFO"
        var testDescription: String { rawValue }
    }

    /// Whoever may write in the log's directory can put something at the journal's name before the proxy starts.
    /// It is neither read (replayed into the log) nor written (a checkpoint over another file's first block, a
    /// file made where a link points): groups are synced with `fdatasync` instead, and the start-up note says why.
    @Test(arguments: StrangerAtTheJournalsName.allCases)
    func aJournalNameThatIsNotTheLogsOwnFileIsNeitherReadNorWritten(_ stranger: StrangerAtTheJournalsName) throws {
        let path = AuditDurabilityTests.temporaryPath()
        let journal = AuditJournal.path(forLogAt: path)
        let victim = AuditDurabilityTests.temporaryPath()
        let victimBytes = [UInt8](repeating: UInt8(ascii: "v"), count: 3 * JournalFormat.blockSize)
        defer {
            unlink(journal)
            unlink(victim)
        }
        switch stranger {
        case .symbolicLink, .hardLink:
            #expect(FileManager.default.createFile(atPath: victim, contents: Data(victimBytes)))
            #expect((stranger == .hardLink ? link(victim, journal) : symlink(victim, journal)) == 0)
        case .danglingLink:
            #expect(symlink(victim, journal) == 0)
        case .fifo:
            #expect(mkfifo(journal, 0o600) == 0)
        }
        let log = try Self.open(path)
        #expect(!log.syncsThroughJournal)
        let reason =
            switch stranger {
            case .symbolicLink, .danglingLink: "it is a symbolic link"
            case .hardLink: "it has 2 names (hard links)"
            case .fifo: "it is not a regular file"
            }
        #expect(
            log.journalNote
                == "no audit journal at \(journal) (\(reason)): each group of lines is synced with fdatasync",
            "\(log.journalNote ?? "no note")"
        )
        try Self.appendGroups(log, 3, tag: "beside-a-stranger")
        log.close()
        #expect(try AuditDurabilityTests.fileLines(path).count == 3)
        if stranger == .danglingLink {
            #expect(!FileManager.default.fileExists(atPath: victim), "nothing made where the link points")
        } else if stranger != .fifo {
            #expect(Array(try Self.contents(victim)) == victimBytes, "the other file is untouched")
        }
    }

    /// A journal that another user made (or left) is not replayed: its batches would be written into the log as if
    /// they were this proxy's acknowledged lines. Only root can give a file away, so the test runs as root (as CI).
    @Test(.enabled(if: geteuid() == 0)) func aJournalOfAnotherUserIsNotReplayedIntoTheLog() throws {
        let path = AuditDurabilityTests.temporaryPath()
        let written = try Self.open(path)
        try Self.appendGroups(written, 5, tag: "other-users")
        Self.cut(path, to: 0)
        #expect(chown(AuditJournal.path(forLogAt: path), 65534, 65534) == 0)
        try Self.restart(path, after: written) { (restarted) throws in
            #expect(
                restarted.journalNote?.contains("(it belongs to user 65534, not to this process's user 0)") == true,
                "\(restarted.journalNote ?? "no note")"
            )
            #expect(try Self.contents(path).isEmpty, "nothing replayed")
        }
        unlink(AuditJournal.path(forLogAt: path))
    }

    @Test func aLogThatIsAPipeHasNoJournal() throws {
        let path = AuditDurabilityTests.temporaryPath()
        #expect(mkfifo(path, 0o600) == 0)
        let reader = Glibc.open(path, O_RDONLY | O_NONBLOCK)
        defer {
            _ = close(reader)
            unlink(path)
        }
        let log = try Self.open(path)
        #expect(!log.syncsThroughJournal)
        try Self.appendGroups(log, 3, tag: "piped")
        var received = [UInt8](repeating: 0, count: 4096)
        #expect(read(reader, &received, received.count) > 0)
        #expect(!FileManager.default.fileExists(atPath: AuditJournal.path(forLogAt: path)))
        log.close()
    }
}

struct CRC32CTests {
    /// The check value of CRC-32C (RFC 3720, appendix B.4), and the same checksum whatever the pieces: the eight-byte
    /// steps and the byte-at-a-time tail must agree.
    @Test func theCheckValueAndAnySplitAgree() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        for split in [1, 7, 8, 9, 500, 999] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.checksum($0) }
            #expect(bytes[split...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) } == whole)
        }
        // 32 zero bytes (RFC 3720 B.4).
        #expect([UInt8](repeating: 0, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)
    }
}
