import Foundation
import LoopbackSimulation
import MockSTS
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 26: with `--audit-fsync always`, an answer leaves once its line is in the audit journal, not once the log's
/// own pages are on disk. A crash of the machine that takes those pages (played here by `kill -9` and emptying the
/// log, in another boot) loses no answered decision: the next start writes the lines back from the journal and says
/// so. A second proxy
/// writing the same log meanwhile does not take the journal from the first.
@Suite(.timeLimit(.minutes(5)))
struct AuditJournalEndToEndTests {
    @Test func answeredDecisionsOutliveAPowerCutThatTookTheLogsPages() async throws {
        let adminPort = try ServeProcess.freePort()
        let crashed = try await ServeProcess(extraArguments: ["--admin", "127.0.0.1:\(adminPort)"])
        do {
            for tenant in [ProxyEndToEndTests.fabrikam, ProxyEndToEndTests.northwind] {
                _ = try await crashed.exchange(creator: ProxyEndToEndTests.contoso, signIn: tenant)
            }
            let answered = try String(contentsOfFile: crashed.auditPath, encoding: .utf8)
            #expect(answered.contains(#""decision":"allowed""#) && answered.contains(#""decision":"blocked""#))
            let journal = crashed.directory.appendingPathComponent(".audit.jsonl.journal").path
            #expect(FileManager.default.fileExists(atPath: journal))
            // A second proxy given the same log leaves the journal to the first: had it replayed the journal and
            // started it over, the first's lines would not come back below.
            #expect(try await Self.journalGauge(adminPort) == 1, "lines go through the journal")
            let secondAdminPort = try ServeProcess.freePort()
            try await ServeProcess.with(
                extraArguments: ["--audit-log", crashed.auditPath, "--admin", "127.0.0.1:\(secondAdminPort)"]
            ) { (second) async throws in
                #expect(second.log().contains("kept by another process"), "\(second.log())")
                #expect(try await Self.journalGauge(secondAdminPort) == 0, "the second fdatasyncs its groups")
            }

            crashed.killAbruptly()
            #expect(truncate(crashed.auditPath, 0) == 0)
            // A crash of the machine starts another boot: the checkpoint's boot ID (bytes 16..<56) is another one.
            let rebooted = open(journal, O_WRONLY)
            #expect(pwrite(rebooted, [UInt8](repeating: 0, count: 40), 40, 16) == 40)
            close(rebooted)
            try await ServeProcess.with(extraArguments: ["--audit-log", crashed.auditPath]) { restarted in
                #expect(restarted.log().contains("restored"), "\(restarted.log())")
                let restored = try String(contentsOfFile: crashed.auditPath, encoding: .utf8)
                #expect(restored.hasPrefix(answered), "\(restored)")
            }
        } catch {
            await crashed.stop()
            throw error
        }
        await crashed.stop()
    }

    /// Whoever may write in the log's directory puts a symbolic link at the journal's name, to a file of the proxy's
    /// user, before it starts. The proxy neither follows it (its checkpoint would go over that file's first block)
    /// nor reads it: it answers, syncs each group with `fdatasync`, and says so at start and in its gauge.
    @Test func aSymbolicLinkAtTheJournalsNameIsNeitherFollowedNorRead() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-link-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = directory.appendingPathComponent("audit.jsonl").path
        let journal = directory.appendingPathComponent(".audit.jsonl.journal").path
        let victim = directory.appendingPathComponent("keys.pem").path
        let victimText = String(repeating: "a file the proxy's user may write\n", count: 100)
        try victimText.write(toFile: victim, atomically: false, encoding: .utf8)
        #expect(symlink(victim, journal) == 0)
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(
            extraArguments: ["--audit-log", log, "--admin", "127.0.0.1:\(adminPort)"]
        ) { (proxy) async throws in
            #expect(proxy.log().contains("no audit journal at \(journal) (it is a symbolic link)"), "\(proxy.log())")
            let answer = try await proxy.exchange(
                creator: ProxyEndToEndTests.contoso,
                signIn: ProxyEndToEndTests.fabrikam
            )
            #expect(answer.status == 200)
            #expect(try String(contentsOfFile: log, encoding: .utf8).contains(#""decision":"allowed""#))
            #expect(try await Self.journalGauge(adminPort) == 0, "each group is synced with fdatasync")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == victimText)
        #expect(
            try FileManager.default.destinationOfSymbolicLink(atPath: journal) == victim,
            "the link is left as it was found, for the operator to look at"
        )
    }

    /// `tenantgate_audit_journal`'s value in the instance's `/metrics`.
    static func journalGauge(_ adminPort: Int) async throws -> Double? {
        let metrics = try await Curl.run(["-s", "-m", "10", "http://127.0.0.1:\(adminPort)/metrics"])
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("tenantgate_audit_journal ") }
        return line.flatMap { Double($0.dropFirst("tenantgate_audit_journal ".count)) }
    }
}
