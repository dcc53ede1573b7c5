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
        func open(_ path: String) -> Result<Int32, SystemCallError> { inner.open(path) }
        func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemCallError> {
            inner.write(descriptor, bytes)
        }
        func dataSync(_ descriptor: Int32) -> Result<Void, SystemCallError> {
            gate.wait()
            return inner.dataSync(descriptor)
        }
        func identity(_ descriptor: Int32) -> FileIdentity? { inner.identity(descriptor) }
        func close(_ descriptor: Int32) { inner.close(descriptor) }
    }

    @Test func noAnswerUntilTheLinesAreDurableAndGroupsShareASync() async throws {
        let path = AuditDurabilityTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let files = GatedFileSystem()
        let log = try AuditLog(path: path, sync: .always, syncInterval: .seconds(1), fileSystem: files)
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
}
