import Foundation
import LoopbackSimulation

/// Debian's daemons (HAProxy, Squid, rsyslog) and the Python receivers, run in the foreground for a test, on a
/// loopback port.
enum LoopbackDaemon {
    /// Runs `executable` and waits (at most 30 s: a whole suite on 2 cores starts them slowly) until it listens on
    /// 127.0.0.1:`port`, as seen in the kernel's table: a probe connection could reach whatever it forwards to.
    static func start(_ executable: String, _ arguments: [String], listeningOn port: Int) async throws -> Process {
        let process = Process()
        // The test process blocks most signals in its threads, and a child inherits the mask: without this, a
        // daemon would never see the SIGTERM of an orderly stop.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments =
            [
                "-c",
                "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); "
                    + "signal.signal(signal.SIGTERM, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])",
                executable,
            ] + arguments
        // What it says when it does not start is the test's failure message.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID()).log").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        defer { try? FileManager.default.removeItem(atPath: log) }
        for _ in 0..<600 where process.isRunning && !isListening(port) {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard process.isRunning, isListening(port) else {
            let running = process.isRunning
            if running { kill(process.processIdentifier, SIGKILL) }
            let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Curl.Failure(
                description: "\(executable) did not start listening on 127.0.0.1:\(port) ("
                    + (running ? "still running" : "exited \(process.terminationStatus)") + "): \(said.suffix(500))"
            )
        }
        return process
    }

    /// Whether a socket listens on 127.0.0.1:`port` (`/proc/net/tcp`: local address in hex, state 0A).
    static func isListening(_ port: Int) -> Bool {
        // Read to its end: Foundation reads a file of size 0 (as /proc says) for its first page only, and the table
        // is many pages long while a whole suite holds its sockets.
        var bytes: [UInt8] = []
        let descriptor = open("/proc/net/tcp", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        while case let count = read(descriptor, &chunk, chunk.count), count > 0 { bytes += chunk[0..<count] }
        close(descriptor)
        let table = String(decoding: bytes, as: UTF8.self)
        let local = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && fields[3] == "0A"
        }
    }
}
