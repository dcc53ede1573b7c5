import Foundation
import LoopbackSimulation
import Plumbing
import TestSupport

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
    private let running = Locked<Process?>(nil)
    /// `-c` settings added to the server's command line (TLS).
    private var settings: [String] = []
    /// The CA that signed the server's certificate, for a server that speaks TLS.
    private(set) var caPath: String?

    var url: String { "postgres://tenantgate@127.0.0.1:\(port)/postgres?sslmode=disable" }

    private init(bin: String, directory: String, port: Int) {
        self.bin = bin
        self.directory = directory
        self.port = port
    }

    /// A server that speaks TLS (`ssl=on`) with a certificate for `localhost` and 127.0.0.1, signed by a CA made for
    /// it (`caPath`).
    static func startWithTLS() async throws -> LocalPostgres {
        try await start(tls: true)
    }

    static func start(tls: Bool = false) async throws -> LocalPostgres {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { (Int($0) ?? 0) < (Int($1) ?? 0) }).last else {
            throw Failure(description: "no PostgreSQL server under /usr/lib/postgresql: apt-get install postgresql")
        }
        let directory = "/tmp/tenantgate-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try await run(["/bin/chown", "postgres:postgres", directory]) }
        let server = LocalPostgres(
            bin: "/usr/lib/postgresql/\(version)/bin",
            directory: directory,
            port: try LoopbackPort.free()
        )
        try await server.pg(["initdb", "-D", "\(directory)/data", "-U", "tenantgate", "--auth=trust", "-E", "UTF8"])
        if tls { try await server.makeCertificates() }
        try await server.start()
        return server
    }

    /// Starts `postgres` itself as a child of the test process (not `pg_ctl`, which daemonises and whose launcher
    /// never returned under the test runner), its output to a log file rather than pipes, and waits until it accepts
    /// connections.
    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments =
            asServerUser + [
                "\(bin)/postgres", "-D", "\(directory)/data", "-h", "127.0.0.1", "-p", "\(port)", "-k", directory,
                "-c", "fsync=off", "-c", "max_connections=200",
            ] + settings
        _ = FileManager.default.createFile(atPath: "\(directory)/log", contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(directory)/log"))
        try log.seekToEnd()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        running.withLock { $0 = process }
        for _ in 0..<300 {
            let probe = try await ChildProcess.run(
                "\(bin)/pg_isready",
                ["-q", "-h", "127.0.0.1", "-p", "\(port)"],
                deadlineSeconds: 10
            )
            if probe.status == 0 { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "PostgreSQL did not start; see \(directory)/log")
    }

    /// A fast stop (SIGINT): open connections are cut, as when the database fails. Waits until the server is gone.
    func stop() async throws {
        let taken = running.withLock { server in
            defer { server = nil }
            return server
        }
        guard let process = taken else { return }
        kill(process.processIdentifier, SIGINT)
        let exited: Bool = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let deadline = Date().addingTimeInterval(30)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                continuation.resume(returning: !process.isRunning)
            }
        }
        guard exited else {
            kill(process.processIdentifier, SIGKILL)
            throw Failure(description: "PostgreSQL did not stop within 30 s; killed")
        }
    }

    /// A test CA and a server certificate (SANs localhost, 127.0.0.1) signed by it; the key belongs to the server
    /// user, mode 0600, as PostgreSQL requires.
    private func makeCertificates() async throws {
        let ca = "\(directory)/ca.pem"
        let caKey = "\(directory)/ca.key"
        let key = "\(directory)/server.key"
        let request = "\(directory)/server.csr"
        let certificate = "\(directory)/server.pem"
        let extensions = "\(directory)/san.cnf"
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        let openssl = "/usr/bin/openssl"
        try await Self.run([
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", caKey,
            "-out", ca, "-days", "2", "-subj", "/CN=policy store test CA",
        ])
        try await Self.run([
            openssl, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
            "-out", request, "-subj", "/CN=localhost",
        ])
        try await Self.run([
            openssl, "x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out",
            certificate, "-days", "2", "-extfile", extensions,
        ])
        chmod(key, 0o600)
        if getuid() == 0 { try await Self.run(["/bin/chown", "postgres:postgres", key, certificate]) }
        settings = ["-c", "ssl=on", "-c", "ssl_cert_file=\(certificate)", "-c", "ssl_key_file=\(key)"]
        caPath = ca
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
        try await Self.run(["/usr/bin/setpriv"] + asServerUser + ["\(bin)/\(arguments[0])"] + arguments.dropFirst())
    }

    /// `setpriv` options that run a server program as `postgres` when the tests run as root (PostgreSQL refuses
    /// root); it execs the program in place, so the server stays the test's own child.
    private var asServerUser: [String] {
        getuid() == 0 ? ["--reuid=postgres", "--regid=postgres", "--clear-groups"] : []
    }

    @discardableResult
    private static func run(_ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run(arguments[0], Array(arguments.dropFirst()), deadlineSeconds: 60)
        guard outcome.status == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) failed: \(outcome.output)\(outcome.errors)")
        }
        return outcome.output
    }
}
