import Foundation

/// A PostgreSQL server of the test's own: Debian's binaries, `initdb` in a temporary directory, listening on a free
/// loopback port only, trust authentication for one user. As root (CI) the server runs as the `postgres` user, since
/// PostgreSQL refuses to run as root. No server binaries: the test fails, it is not skipped.
final class LocalPostgres: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String
    let port: Int
    private let bin: String

    var url: String { "postgres://tenantgate@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private init(bin: String, directory: String, port: Int) {
        self.bin = bin
        self.directory = directory
        self.port = port
    }

    static func start() async throws -> LocalPostgres {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }).last else {
            throw Failure(description: "no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql")
        }
        let directory = "/tmp/tenantgate-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try await run(["/bin/chown", "postgres", directory]) }
        let server = LocalPostgres(bin: "/usr/lib/postgresql/\(version)/bin", directory: directory, port: freePort())
        try await server.pg(["initdb", "-D", "\(directory)/data", "-U", "tenantgate", "--auth=trust", "-E", "UTF8"])
        try await server.start()
        return server
    }

    /// Without pipes: the server would inherit them and hold them open, so a reader would never see their end.
    func start() async throws {
        var command = [
            "\(bin)/pg_ctl", "-D", "\(directory)/data", "-l", "\(directory)/log", "-w", "-t", "30", "-o",
            "-h 127.0.0.1 -p \(port) -k \(directory) -c fsync=off", "start",
        ]
        if getuid() == 0 { command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command }
        let launch = command
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: launch[0])
                process.arguments = Array(launch.dropFirst())
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                continuation.resume(
                    with: Result {
                        try process.run()
                        process.waitUntilExit()
                        return process.terminationStatus
                    }
                )
            }
        }
        guard status == 0 else { throw Failure(description: "pg_ctl start failed (\(status)); see \(directory)/log") }
    }

    /// A fast stop: open connections are cut, as when the database fails.
    func stop() async throws {
        try await pg(["pg_ctl", "-D", "\(directory)/data", "-m", "fast", "-w", "-t", "30", "stop"])
    }

    /// Runs SQL with psql, as an administrator would by hand.
    @discardableResult
    func psql(_ sql: String) async throws -> String {
        try await Self.run([
            "/usr/bin/psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
            url.replacingOccurrences(of: "?sslmode=disable", with: ""), "-c", sql,
        ])
    }

    func remove() async {
        try? await stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func pg(_ arguments: [String]) async throws {
        let command = ["\(bin)/\(arguments[0])"] + arguments.dropFirst()
        try await Self.run(getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command)
    }

    @discardableResult
    private static func run(_ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run(arguments[0], Array(arguments.dropFirst()), deadlineSeconds: 60)
        guard outcome.status == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) failed: \(outcome.output)\(outcome.errors)")
        }
        return outcome.output
    }

    private static func freePort() -> Int {
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
