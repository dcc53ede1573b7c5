import Foundation
import LoopbackSimulation
import Testing

/// Audit lines to a pipe, as a container's log collector reads `--audit-log /dev/stdout`: a pipe has no disk to
/// sync, so with the default `--audit-fsync always` the exchange is still decided and its line reaches the reader.
/// (Before, every sync failed with EINVAL and every exchange was answered 503.)
@Suite(.timeLimit(.minutes(5)))
struct AuditToAPipeTests {
    @Test func linesToAPipeAreWrittenAndTheExchangeDecided() async throws {
        let fifo = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        // The reader first, so that the proxy's open for writing does not wait for one.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let harness = try await LoopbackHarness(policiesDirectory: ProxyEndToEndTests.policies, auditLogPath: fifo)
        do {
            let blocked = try await harness.tokenRequest(
                creator: ProxyEndToEndTests.contoso,
                path: "/\(ProxyEndToEndTests.northwind)/oauth2/v2.0/token"
            )
            #expect(blocked.status == 403, "\(blocked.body)")
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = read(reader, &buffer, buffer.count)
            let lines = String(decoding: buffer[0..<max(count, 0)], as: UTF8.self)
            #expect(lines.contains(#""decision":"blocked""#), "\(lines)")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}
