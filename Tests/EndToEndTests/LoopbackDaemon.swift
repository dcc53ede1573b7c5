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
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 where process.isRunning && !isListening(port) {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard process.isRunning, isListening(port) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw Curl.Failure(description: "\(executable) did not start listening on 127.0.0.1:\(port)")
        }
        return process
    }

    /// Whether a socket listens on 127.0.0.1:`port` (`/proc/net/tcp`: local address in hex, state 0A).
    static func isListening(_ port: Int) -> Bool {
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        let local = String(format: "0100007F:%04X", port)
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1] == local && fields[3] == "0A"
        }
    }
}
