import Foundation
import Plumbing
import Testing

@testable import Audit

#if canImport(Glibc)
import Glibc
#endif

/// The kernel's calls on a real file, with a byte budget that makes a write run out of space part-way (a short
/// write, then ENOSPC), a switch that makes `open` fail, and counts of writes and syncs.
final class FaultyFileSystem: AuditFileSystem {
    struct State {
        /// Bytes that still fit on the "disk"; nil: unlimited.
        var spaceLeft: Int?
        var failOpen = false
        var writes = 0
        var syncs = 0
    }

    let state = Locked(State())
    private let system = SystemFileSystem()

    var syncs: Int { state.withLock { $0.syncs } }
    var writes: Int { state.withLock { $0.writes } }
    func setSpaceLeft(_ bytes: Int?) { state.withLock { $0.spaceLeft = bytes } }

    func open(_ path: String) -> Result<Int32, SystemCallError> {
        state.withLock { $0.failOpen } ? .failure(SystemCallError(code: EACCES)) : system.open(path)
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemCallError> {
        let allowed = state.withLock { state -> Int in
            state.writes += 1
            guard let space = state.spaceLeft else { return bytes.count }
            let allowed = min(space, bytes.count)
            state.spaceLeft = space - allowed
            return allowed
        }
        guard allowed > 0 else { return .failure(SystemCallError(code: ENOSPC)) }
        return system.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[..<allowed]))
    }

    func dataSync(_ descriptor: Int32) -> Result<Void, SystemCallError> {
        state.withLock { $0.syncs += 1 }
        return system.dataSync(descriptor)
    }

    func identity(_ descriptor: Int32) -> FileIdentity? { system.identity(descriptor) }
    func close(_ descriptor: Int32) { system.close(descriptor) }
}

/// Issue 13 item 2: syncing per group, torn writes, disk full and recovery, reopening for log rotation.
struct AuditDurabilityTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID()).jsonl").path
    }

    static func lines(_ count: Int, tag: String = "line") -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<count { AuditLogTests.event(reason: "\(tag)-\(index)").appendJSONLine(to: &bytes) }
        return bytes
    }

    static func fileLines(_ path: String) throws -> [Substring] {
        // Every line ends with a newline, so the last piece is the empty one after the final newline.
        Array(
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .dropLast()
        )
    }

    static func isJSONObject(_ line: Substring) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any]
    }

    struct SyncCase: Sendable, CustomTestStringConvertible {
        let sync: AuditSync
        let afterAppends: Int
        let afterClose: Int
        var testDescription: String { sync.rawValue }
    }

    /// Two appends of 100 lines each, with an interval far longer than the test.
    @Test(arguments: [
        SyncCase(sync: .always, afterAppends: 2, afterClose: 2),
        SyncCase(sync: .interval, afterAppends: 0, afterClose: 1),
        SyncCase(sync: .never, afterAppends: 0, afterClose: 0),
    ])
    func syncsPerGroupNeverPerLine(_ row: SyncCase) throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: row.sync, syncInterval: .seconds(3600), fileSystem: fileSystem)
        for group in 0..<2 {
            #expect(throws: Never.self) { try log.append(Self.lines(100, tag: "g\(group)"), lineCount: 100).get() }
        }
        #expect(fileSystem.writes == 2)
        #expect(fileSystem.syncs == row.afterAppends)
        log.close()
        #expect(fileSystem.syncs == row.afterClose)
        #expect(try Self.fileLines(path).count == 200)
    }

    @Test func alwaysSyncsEachWriterThreadGroupBeforeItsCompletions() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: fileSystem)
        let syncedAtEveryCompletion = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0..<4 {
                group.addTask {
                    var synced = true
                    for index in 0..<100 {
                        // Checked in the completion itself, on the writer thread, before it writes the next group.
                        synced =
                            try await withCheckedThrowingContinuation { continuation in
                                log.record(AuditLogTests.event(reason: "t\(task)-\(index)")) { result in
                                    continuation.resume(with: result.map { fileSystem.syncs == fileSystem.writes })
                                }
                            } && synced
                    }
                    return synced
                }
            }
            return try await group.reduce(true) { $0 && $1 }
        }
        #expect(syncedAtEveryCompletion)
        // One sync per group write, however many lines the group held.
        #expect(fileSystem.syncs == fileSystem.writes)
        #expect(fileSystem.writes <= 400)
        log.close()
        #expect(try Self.fileLines(path).count == 400)
    }

    @Test func intervalSyncsOffThePathOnceThenRests() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .interval, syncInterval: .milliseconds(20), fileSystem: fileSystem)
        #expect(throws: Never.self) { try log.append(Self.lines(10), lineCount: 10).get() }
        // The writer thread syncs within about one interval; bounded wait.
        for _ in 0..<500 where fileSystem.syncs == 0 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(fileSystem.syncs == 1)
        // Nothing new written: no more syncs, however often the thread looks.
        try await Task.sleep(for: .milliseconds(100))
        #expect(fileSystem.syncs == 1)
        log.close()
        #expect(fileSystem.syncs == 1)
    }

    @Test func diskFullFailsEveryWaiterAndTheNextWriteAfterSpaceReturnsSucceeds() async throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: fileSystem)
        fileSystem.setSpaceLeft(0)
        // Fail (event-loop path), fail (writer thread path), succeed.
        let full = log.append(Self.lines(3, tag: "lost"), lineCount: 3)
        #expect(throws: AuditLogError.self) { try full.get() }
        if case .failure(let error) = full { #expect("\(error)".contains("No space left on device")) }
        await #expect(throws: AuditLogError.self) { try await log.recordAndWait(AuditLogTests.event(reason: "lost")) }
        #expect(fileSystem.syncs == 0)
        fileSystem.setSpaceLeft(nil)
        #expect(throws: Never.self) { try log.append(Self.lines(2, tag: "kept"), lineCount: 2).get() }
        try await log.recordAndWait(AuditLogTests.event(reason: "kept-thread"))
        #expect(log.written == 3)
        #expect(log.tornFragmentBytes == 0)
        log.close()
        let lines = try Self.fileLines(path)
        #expect(lines.count == 3)
        #expect(lines.allSatisfy(Self.isJSONObject))
        #expect(!lines.contains { $0.contains("lost") })
    }

    /// Where the space runs out in a batch of three lines: inside the first, right after it, one byte after it.
    @Test(arguments: ["inside the first line", "right after the first line", "one byte into the second line"])
    func tornLineEndsOnItsOwnLineBeforeTheNextWrite(where place: String) throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: fileSystem)
        let batch = Self.lines(3, tag: "torn")
        let firstLine = try #require(batch.firstIndex(of: UInt8(ascii: "\n"))) + 1
        let (fits, fragment) =
            switch place {
            case "inside the first line": (50, 50)
            case "right after the first line": (firstLine, 0)
            default: (firstLine + 1, 1)
            }
        fileSystem.setSpaceLeft(fits)

        let torn = log.append(batch, lineCount: 3)
        #expect(throws: AuditLogError.self) { try torn.get() }
        if case .failure(let error) = torn { #expect("\(error)".contains("after \(fits) of \(batch.count) bytes")) }
        #expect(log.tornFragmentBytes == fragment)
        // Still full: the fragment stays unterminated, and that is said.
        #expect(throws: AuditLogError.self) { try log.append(Self.lines(1, tag: "lost"), lineCount: 1).get() }
        #expect(log.tornFragmentBytes == fragment)

        fileSystem.setSpaceLeft(nil)
        #expect(throws: Never.self) { try log.append(Self.lines(2, tag: "after"), lineCount: 2).get() }
        #expect(log.tornFragmentBytes == 0)
        log.close()

        let lines = try Self.fileLines(path)
        let whole = fits >= firstLine ? 1 : 0
        #expect(lines.count == whole + (fragment > 0 ? 1 : 0) + 2)
        if fragment > 0 {
            #expect(lines[whole].utf8.count == fragment)
            #expect(!Self.isJSONObject(lines[whole]))
        }
        #expect(lines.suffix(2).allSatisfy(Self.isJSONObject))
        #expect(lines.suffix(2).allSatisfy { $0.contains("after") })
        // Never two events glued into one line.
        #expect(lines.allSatisfy { $0.components(separatedBy: "{\"time\"").count <= 2 })
    }

    @Test func reopenAfterRenameWritesTheNewFileAndLeavesTheOldLinesInTheRenamedOne() throws {
        let path = Self.temporaryPath()
        let rotated = path + ".1"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: rotated)
        }
        let log = try AuditLog(path: path)
        #expect(throws: Never.self) { try log.append(Self.lines(2, tag: "old"), lineCount: 2).get() }
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        #expect(throws: Never.self) { try log.reopen().get() }
        #expect(throws: Never.self) { try log.append(Self.lines(3, tag: "new"), lineCount: 3).get() }
        log.close()
        let old = try Self.fileLines(rotated)
        let new = try Self.fileLines(path)
        #expect(old.count == 2 && old.allSatisfy { $0.contains("old-") })
        #expect(new.count == 3 && new.allSatisfy { $0.contains("new-") })
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode & ~0o640 == 0)  // 0640, less the umask
    }

    @Test func failedReopenKeepsTheOldDescriptorAndSaysWhy() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: fileSystem)
        #expect(throws: Never.self) { try log.append(Self.lines(1, tag: "before"), lineCount: 1).get() }
        fileSystem.state.withLock { $0.failOpen = true }
        let reopened = log.reopen()
        #expect(throws: AuditLogError.self) { try reopened.get() }
        if case .failure(let error) = reopened {
            #expect("\(error)".contains("still writing to the file opened before"))
        }
        #expect(throws: Never.self) { try log.append(Self.lines(1, tag: "after"), lineCount: 1).get() }
        log.close()
        #expect(try Self.fileLines(path).count == 2)
    }

    @Test func reopenOfTheSameFileKeepsItsTornLineAndANewFileStartsClean() throws {
        let path = Self.temporaryPath()
        let rotated = path + ".1"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: rotated)
        }
        let fileSystem = FaultyFileSystem()
        let log = try AuditLog(path: path, sync: .never, syncInterval: .seconds(1), fileSystem: fileSystem)
        fileSystem.setSpaceLeft(10)
        #expect(throws: AuditLogError.self) { try log.append(Self.lines(1), lineCount: 1).get() }
        fileSystem.setSpaceLeft(nil)
        #expect(throws: Never.self) { try log.reopen().get() }  // nothing renamed: the same file
        #expect(log.tornFragmentBytes == 10)
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        #expect(throws: Never.self) { try log.reopen().get() }
        #expect(log.tornFragmentBytes == 0)
        #expect(throws: Never.self) { try log.append(Self.lines(1), lineCount: 1).get() }
        log.close()
        #expect(try String(contentsOfFile: rotated, encoding: .utf8).utf8.count == 10)
        let new = try Self.fileLines(path)
        #expect(new.count == 1 && Self.isJSONObject(new[0]))
    }

    /// An unfinished line found at the end of the file when it is opened (a crash, a full disk or another writer left
    /// it before this process) is ended before the next line, whether the log opens at start or reopens onto a new
    /// file. Review 59 F1: after a restart the first line was glued to the fragment, and a reader dropped both.
    @Test(arguments: [false, true])
    func aFragmentFoundWhenTheFileIsOpenedIsEndedBeforeTheNextLine(reopened: Bool) throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fragment = #"{"decision":"allowed","ti"#
        let log: AuditLog
        if reopened {
            log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: SystemFileSystem())
            try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
            try Data(("{}\n" + fragment).utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: Never.self) { try log.reopen().get() }
        } else {
            try Data(("{}\n" + fragment).utf8).write(to: URL(fileURLWithPath: path))
            log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: SystemFileSystem())
        }
        defer { try? FileManager.default.removeItem(atPath: path + ".1") }
        #expect(log.tornFragmentBytes == fragment.utf8.count)
        try log.append(Self.lines(1), lineCount: 1).get()
        log.close()
        let lines = try Self.fileLines(path)
        #expect(lines.count == 3 && lines[1] == fragment && Self.isJSONObject(lines[2]))
    }

    @Test func reopenWhileLoopsAppendLosesAndSplitsNothing() async throws {
        let path = Self.temporaryPath()
        defer {
            try? FileManager.default.removeItem(atPath: path)
            for index in 0..<20 { try? FileManager.default.removeItem(atPath: path + ".\(index)") }
        }
        let log = try AuditLog(path: path, sync: .always)
        let batch = Self.lines(5, tag: "busy")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<200 { try log.append(batch, lineCount: 5).get() }
                }
            }
            group.addTask {
                for index in 0..<20 {
                    try FileManager.default.moveItem(atPath: path, toPath: path + ".\(index)")
                    try log.reopen().get()
                    await Task.yield()
                }
            }
            try await group.waitForAll()
        }
        log.close()
        var lines = try Self.fileLines(path)
        for index in 0..<20 { lines += try Self.fileLines(path + ".\(index)") }
        #expect(lines.count == 4 * 200 * 5)
        #expect(lines.allSatisfy(Self.isJSONObject))
    }

    @Test func memorySinkReopensTrivially() {
        let log = AuditLog(sink: MemorySink())
        #expect(throws: Never.self) { try log.reopen().get() }
        log.close()
    }
}
