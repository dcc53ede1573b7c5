import ExchangePolicy
import Foundation
import Logging
import PolicyFiles
import PolicyService
import TenantPolicy
import TestSupport
import Testing

/// Edits to the policies directory are applied; invalid edits are refused and the last good set stays.
struct PolicyDirectoryWatcherTests {
    static let contoso = ExampleTenants.contoso.description

    static func policy(enabled: Bool) -> String {
        "tenantId: \(contoso)\nisolation:\n  enabled: \(enabled)\n  rules: []\n"
    }

    /// The policies of `directory` in a store, and its watcher running every 20 ms (cancel the task to stop it).
    static func watch(_ directory: String) throws -> (PolicyStore, Task<Void, any Error>) {
        let contents = try PolicyDirectoryContents.read(directory).get()
        let store = PolicyStore(bundle: try contents.library.outcome.get(), nonEntraSTS: .audit)
        let watcher = PolicyDirectoryWatcher(
            contents: contents,
            store: store,
            interval: .milliseconds(20),
            logger: Logger(label: "test")
        )
        return (store, Task { try await watcher.run() })
    }

    /// Polls `condition` every 20 ms for at most 5 s.
    static func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<250 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func editsAreAppliedAndInvalidEditsRefused() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/contoso.yaml"
        try Self.policy(enabled: false).write(toFile: file, atomically: true, encoding: .utf8)
        let (store, running) = try Self.watch(directory)
        defer { running.cancel() }
        let tenant = try #require(TenantID(Self.contoso))
        func enabled() -> Bool? { store.current().bundle.isolation.tenant(tenant)?.isolation.isEnabled }

        try Self.policy(enabled: true).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(await Self.eventually { enabled() == true })

        let goodVersion = store.current().bundle.version
        try "tenantId: [broken\n".write(toFile: file, atomically: true, encoding: .utf8)
        // Past the watcher's settling time, so the broken file is read and refused.
        try await Task.sleep(for: PolicyDirectoryWatcher.settling + .milliseconds(500))
        #expect(store.current().bundle.version == goodVersion)
        #expect(enabled() == true)
    }

    /// Review 19: a file rewritten in place was read as soon as the watcher saw its first part, and that prefix (no
    /// `isolation:`) was a valid policy that isolates nothing: every tenant was allowed until the rest landed. A poll
    /// leaves a file written within its settling time for a later one (a long one here, so that no load on the
    /// machine can make the prefix look settled); SIGHUP and admin writes read at once.
    @Test func aFileWrittenWithinTheSettlingTimeIsLeftForALaterLook() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/contoso.yaml"
        try Self.policy(enabled: true).write(toFile: file, atomically: true, encoding: .utf8)
        var contents = try PolicyDirectoryContents.read(directory).get()
        let tenant = try #require(TenantID(Self.contoso))
        func enabled() throws -> Bool? {
            try contents.library.outcome.get().isolation.tenant(tenant)?.isolation.isEnabled
        }
        // Long past its last write: an old file is read at once.
        #expect(try enabled() == true)

        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("tenantId: \(Self.contoso)\n".utf8))
        #expect(contents.refresh(settling: .seconds(600)).isEmpty, "the prefix is left for a later look")
        #expect(try enabled() == true)
        try handle.write(contentsOf: Data("isolation:\n  enabled: false\n  rules: []\n".utf8))
        try handle.close()
        #expect(contents.refresh(settling: .seconds(600)).isEmpty)
        // Once settled (or at SIGHUP), the whole file is read.
        #expect(contents.refresh(settling: .zero) == [file])
        #expect(try enabled() == false)
    }

    /// An admin write reads the directory as a poll does: another tenant's file caught half-rewritten keeps its last
    /// version read, and is named as settling (review 61 F2: the prefix, isolation Off, went into force with an
    /// unrelated tenant's write and allowed Contoso's partners for 2.7 s).
    @Test func anAdminWriteLeavesAFileBeingRewrittenAsItWas() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/contoso.yaml"
        try Self.policy(enabled: true).write(toFile: file, atomically: true, encoding: .utf8)
        let contents = try PolicyDirectoryContents.read(directory).get()
        let store = PolicyStore(bundle: try contents.library.outcome.get(), nonEntraSTS: .audit)
        let watcher = PolicyDirectoryWatcher(
            contents: contents,
            store: store,
            interval: .zero,
            logger: Logger(label: "t")
        )
        let tenant = try #require(TenantID(Self.contoso))

        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data("tenantId: \(Self.contoso)\n".utf8))
        try handle.close()
        let (enabled, unsettled) = try watcher.change { library, unsettled in
            let enabled = try library.outcome.get().isolation.tenant(tenant)?.isolation.isEnabled
            return ((enabled, unsettled), written: "\(directory)/fabrikam.yaml", library: library)
        }
        #expect(enabled == true, "the half-written file's last version read stands")
        #expect(unsettled == [file])
    }

    /// A file renamed a moment ago keeps its old name in force while the new one settles; an admin write aimed at the
    /// old name is told it is unsettled (review 62 F3: it re-created `contoso.yaml` beside `contoso.yml`, two files for
    /// one tenant, and every later reload and write was refused).
    @Test func anAdminWriteSeesARenameUnderWay() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("watch-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = "\(directory)/contoso.yaml"
        try Self.policy(enabled: true).write(toFile: file, atomically: true, encoding: .utf8)
        let contents = try PolicyDirectoryContents.read(directory).get()
        let store = PolicyStore(bundle: try contents.library.outcome.get(), nonEntraSTS: .audit)
        let watcher = PolicyDirectoryWatcher(
            contents: contents,
            store: store,
            interval: .zero,
            logger: Logger(label: "t")
        )
        try FileManager.default.moveItem(atPath: file, toPath: "\(directory)/contoso.yml")
        let unsettled = watcher.change { library, unsettled in
            (unsettled, written: "\(directory)/fabrikam.yaml", library: library)
        }
        #expect(unsettled.contains(file), "\(unsettled)")
    }

    /// Review 45 F4: `mv contoso.yaml contoso.yml` dropped the old name at once and held the new one back while it
    /// settled (a rename changes its `ctime`), so Contoso was ungoverned for a second. The removal waits with it.
    @Test func aRenamedFileLeavesItsTenantGovernedWhileItSettles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rename-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.policy(enabled: true).write(toFile: "\(directory)/contoso.yaml", atomically: true, encoding: .utf8)
        var contents = try PolicyDirectoryContents.read(directory).get()
        let tenant = try #require(TenantID(Self.contoso))
        func enabled() throws -> Bool? {
            try contents.library.outcome.get().isolation.tenant(tenant)?.isolation.isEnabled
        }
        try FileManager.default.moveItem(atPath: "\(directory)/contoso.yaml", toPath: "\(directory)/contoso.yml")
        #expect(contents.refresh(settling: .seconds(600)).isEmpty, "the rename is applied whole or not at all")
        #expect(try enabled() == true)
        #expect(contents.refresh(settling: .zero) == ["\(directory)/contoso.yaml", "\(directory)/contoso.yml"])
        #expect(try enabled() == true)
    }

    /// Review 46 F1: a file rewritten more often than the settling time held back every other file's change (a
    /// tenant's removed rule stayed in force for as long as another file was being rewritten). Only its own waits.
    @Test func aFileKeptFreshHoldsBackNoOtherFilesChange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fresh-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let contoso = "\(directory)/contoso.yaml"
        let other = "\(directory)/other.yaml"
        try Self.policy(enabled: true).write(toFile: contoso, atomically: true, encoding: .utf8)
        try "tenantId: \(UUID().uuidString.lowercased())\n".write(toFile: other, atomically: true, encoding: .utf8)
        var contents = try PolicyDirectoryContents.read(directory).get()
        let tenant = try #require(TenantID(Self.contoso))
        try Self.policy(enabled: false).write(toFile: contoso, atomically: true, encoding: .utf8)
        try await Task.sleep(for: .milliseconds(400))
        try "tenantId: \(UUID().uuidString.lowercased())\n".write(toFile: other, atomically: true, encoding: .utf8)
        #expect(contents.refresh(settling: .milliseconds(300)).contains(contoso))
        #expect(try contents.library.outcome.get().isolation.tenant(tenant)?.isolation.isEnabled == false)
    }

    /// A Kubernetes ConfigMap volume: every file is a link through `..data`, and an update writes a new timestamped
    /// directory and renames a new `..data` link over the old one, atomically; the links themselves never change.
    @Test func aConfigMapVolumesAtomicSwapIsSeen() async throws {
        let manager = FileManager.default
        let directory = manager.temporaryDirectory.appendingPathComponent("configmap-\(UUID())").path
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? manager.removeItem(atPath: directory) }
        func publish(_ text: String, generation: Int) throws {
            let version = "..2026_11_30_00_00_0\(generation).000000001"
            try manager.createDirectory(atPath: "\(directory)/\(version)", withIntermediateDirectories: false)
            // The same size and, within a second, the same modification time as the previous generation's file.
            try text.write(toFile: "\(directory)/\(version)/contoso.yaml", atomically: false, encoding: .utf8)
            try manager.createSymbolicLink(atPath: "\(directory)/..data_tmp", withDestinationPath: version)
            #expect(rename("\(directory)/..data_tmp", "\(directory)/..data") == 0)
        }
        try publish(Self.policy(enabled: false) + "# a\n", generation: 1)
        try manager.createSymbolicLink(atPath: "\(directory)/contoso.yaml", withDestinationPath: "..data/contoso.yaml")
        let (store, running) = try Self.watch(directory)
        defer { running.cancel() }
        let tenant = try #require(TenantID(Self.contoso))
        #expect(store.current().bundle.isolation.tenant(tenant)?.isolation.isEnabled == false)

        try publish(Self.policy(enabled: true), generation: 2)
        #expect(await Self.eventually { store.current().bundle.isolation.tenant(tenant)?.isolation.isEnabled == true })
    }
}
