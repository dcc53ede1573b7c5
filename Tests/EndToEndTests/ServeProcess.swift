import Foundation
import LoopbackSimulation
import MockSTS
import NIOCore
import NIOPosix
import TenantGateApp
import TenantPolicy
import TestSupport

/// The real `tenantgate serve` binary as a child process, in front of an in-process mock STS: what users run, with
/// its own flag parsing and wiring. Every wait has a deadline; `stop()` ends it (SIGTERM, then SIGKILL).
final class ServeProcess: @unchecked Sendable {
    let directory: URL
    let sts: MockSTS
    let proxyPort: Int
    let caPath: String
    let stsCAPath: String
    let auditPath: String
    private let process: Process
    private let group: MultiThreadedEventLoopGroup

    /// The binary next to the test bundle (`swift test` builds it), else the package's debug build.
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "tenantgate"
        ).path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return "\(ProxyEndToEndTests.repository)/.build/debug/tenantgate"
    }

    /// - Parameter extraArguments: given after the harness's own flags. `trustMockKeys` adds `--creator-jwks` with
    ///   the mock's keys (a real deployment's Entra keys).
    init(
        policies: String? = ProxyEndToEndTests.policies,
        trustMockKeys: Bool = true,
        stsOptions: MockSTSOptions = .init(),
        plainHTTP: Bool = false,
        extraArguments: [String] = []
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tenantgate-serve-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        sts = try await MockSTS.start(group: group, options: stsOptions, plainHTTP: plainHTTP)
        stsCAPath = directory.appendingPathComponent("sts-ca.pem").path
        try sts.caCertificatePEM.write(toFile: stsCAPath, atomically: true, encoding: .utf8)
        let jwksPath = directory.appendingPathComponent("jwks.json").path
        try sts.jwksJSON.write(toFile: jwksPath, atomically: true, encoding: .utf8)
        caPath = directory.appendingPathComponent("ca.pem").path
        auditPath = directory.appendingPathComponent("audit.jsonl").path

        var arguments = [
            "serve", "--listen", "127.0.0.1:0", "--ca-cert", caPath,
            "--ca-key", directory.appendingPathComponent("ca.key").path, "--upstream-ca", stsCAPath,
            "--audit-log", auditPath,
        ]
        if let policies { arguments += ["--policies", policies] }
        for host in MockSTS.hosts { arguments += ["--upstream-override", "\(host):443=127.0.0.1:\(sts.port)"] }
        if trustMockKeys { arguments += ["--creator-jwks", jwksPath] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        // `STS_PORT` (`STS_PLAIN_PORT`) in an extra argument stands for the mock's (plain HTTP) port, known only
        // now; `JWKS_PATH` for its keys' file.
        let stsPort = "\(sts.port)"
        let plainPort = "\(sts.plainPort ?? 0)"
        process.arguments =
            arguments
            + extraArguments.map {
                $0.replacingOccurrences(of: "STS_PLAIN_PORT", with: plainPort)
                    .replacingOccurrences(of: "STS_PORT", with: stsPort).replacingOccurrences(
                        of: "JWKS_PATH",
                        with: jwksPath
                    )
            }
        let output = Pipe()
        process.standardOutput = output
        let logPath = directory.appendingPathComponent("serve.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        proxyPort = try await Self.listeningPort(output.fileHandleForReading, process: process)
    }

    /// Reads standard output until the contract's `listening on HOST:PORT` line, for at most 30 s.
    private static func listeningPort(_ handle: FileHandle, process: Process) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
                DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: watchdog)
                var text = ""
                while !text.contains("\n") {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                watchdog.cancel()
                let line = text.split(separator: "\n").first.map(String.init) ?? ""
                guard line.hasPrefix("listening on "), let port = line.split(separator: ":").last.flatMap({ Int($0) })
                else {
                    return continuation.resume(throwing: Curl.Failure(description: "serve did not start: '\(text)'"))
                }
                continuation.resume(returning: port)
            }
        }
    }

    var proxy: String { "http://127.0.0.1:\(proxyPort)" }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    var processIdentifier: Int32 { process.processIdentifier }

    /// The proxy's resident memory in MiB, as the kernel counts it (`VmRSS`); nil once it is gone.
    func residentMebibytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kibibytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kibibytes / 1024
    }

    /// The names of the proxy's threads (`/proc/PID/task/*/comm`).
    func threadNames() -> [String] {
        let tasks = "/proc/\(process.processIdentifier)/task"
        return ((try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []).compactMap { task in
            (try? String(contentsOfFile: "\(tasks)/\(task)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// A loopback port free at this moment (for listeners whose port a test must know in advance).
    static func freePort() throws -> Int { try LoopbackPort.free() }

    /// Runs `tenantgate` with `arguments` to its end (at most 30 s): exit status and standard error.
    static func runToExit(_ arguments: [String]) async throws -> (status: Int32, errors: String) {
        let outcome = try await ChildProcess.run(binary, arguments)
        return (outcome.status, outcome.errors)
    }

    /// curl through the proxy with the interception CA trusted: the body, then the HTTP code on the last line.
    func curl(_ arguments: [String]) async throws -> LoopbackHarness.Response {
        let output = try await Curl.run(
            ["-s", "-m", "20", "--proxy", proxy, "--cacert", caPath, "-w", "\n%{http_code}"] + arguments
        )
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return LoopbackHarness.Response(
            status: lines.last.flatMap { Int($0) } ?? 0,
            body: lines.dropLast().joined(separator: "\n")
        )
    }

    /// The status of the proxy's answer to curl's CONNECT (`%{http_connect}`): a refused CONNECT is 407 or 403
    /// here, while a crashed proxy is 0, which `curl`'s `%{http_code}` cannot tell apart.
    func connectStatus(_ arguments: [String]) async throws -> Int {
        let output = try await Curl.run(
            ["-s", "-m", "20", "--proxy", proxy, "--cacert", caPath, "-o", "/dev/null", "-w", "%{http_connect}"]
                + arguments
        )
        return Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Repeats `arguments` through the proxy every 100 ms, at most `attempts` times, until the status is `wanted`:
    /// the last status seen.
    func firstStatus(_ wanted: Int, of arguments: [String], attempts: Int) async throws -> Int {
        var status = 0
        for _ in 0..<attempts {
            status = try await curl(arguments).status
            if status == wanted { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return status
    }

    /// What `serve` has logged so far (its standard error).
    func log() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("serve.log"), encoding: .utf8)) ?? ""
    }

    func makerHeader(_ token: String) -> [String] { ["--proxy-header", "Proxy-Authorization: Bearer \(token)"] }

    /// A maker of `creator` asks Entra's v2 token endpoint for a token of `signIn` through the proxy: the exchange
    /// most tests have judged.
    func exchange(creator: TenantID, signIn: TenantID) async throws -> LoopbackHarness.Response {
        let maker = makerHeader(try await sts.makerToken(tenant: creator))
        return try await curl(
            maker + ["-d", HostileClientTests.form, "https://login.microsoftonline.com/\(signIn)/oauth2/v2.0/token"]
        )
    }

    func auditObjects() -> [[String: Any]] {
        ((try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? "").split(separator: "\n").map {
            ProxyEndToEndTests.auditObject(String($0))
        }
    }

    /// `kill -9`, as a crash would end it: nothing of its own shutdown runs, and its directory stays.
    func killAbruptly() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func stop() async {
        kill(process.processIdentifier, SIGTERM)
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? await sts.shutdown()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body` against a fresh `serve` and always stops it.
    static func with(
        policies: String? = ProxyEndToEndTests.policies,
        trustMockKeys: Bool = true,
        stsOptions: MockSTSOptions = .init(),
        plainHTTP: Bool = false,
        extraArguments: [String] = [],
        _ body: (ServeProcess) async throws -> Void
    ) async throws {
        let serve = try await ServeProcess(
            policies: policies,
            trustMockKeys: trustMockKeys,
            stsOptions: stsOptions,
            plainHTTP: plainHTTP,
            extraArguments: extraArguments
        )
        do {
            try await body(serve)
        } catch {
            await serve.stop()
            throw error
        }
        await serve.stop()
    }
}
