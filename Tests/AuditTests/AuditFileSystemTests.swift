import Foundation
import Testing

@testable import Audit

/// What the kernel's calls say when the audit log's path is not a file it can append to.
struct AuditFileSystemTests {
    /// A socket at the path (systemd's journal behind `/dev/stdout`) cannot be opened by its name: it is said so,
    /// not taken for a FIFO nobody reads (review 38 F2).
    @Test func aSocketAtThePathIsCalledOne() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).sock").path
        defer { unlink(path) }
        let socket = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        #expect(bound == 0)
        guard case .failure(let failure) = SystemFileSystem().open(path) else {
            Issue.record("a socket must not open")
            return
        }
        #expect(failure.sentence.hasPrefix("a socket"), "\(failure.sentence)")

        let fifo = path + ".fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        defer { unlink(fifo) }
        guard case .failure(let nobody) = SystemFileSystem().open(fifo) else {
            Issue.record("a FIFO nobody reads must not open")
            return
        }
        #expect(nobody.sentence == "a pipe (FIFO) that nobody reads")
    }
}
