import Foundation
import LoopbackSimulation
import MockSTS
import Testing

/// The admin console in a real headless Chromium: the real `tenantgate serve` binary with the console on, the mock
/// STS signing administrators in (authorization code + PKCE over plain HTTP on loopback) and answering token
/// exchanges, curl through the proxy, and `Tests/Browser/console_test.py` driving the browser (Selenium with
/// Debian's chromium and chromium-driver, which `.ci/run` installs).
///
/// `TENANTGATE_SCREENSHOTS=DIR` keeps the pages' screenshots (the README's come from here).
@Suite(.serialized)
struct ConsoleBrowserTests {
    static let script = "\(ProxyEndToEndTests.repository)/Tests/Browser/console_test.py"
    static let consoleClientID = "7d3c1e52-6a0b-4f4e-9c1d-2b8e5f6a7c90"
    static let adminAudience = "api://tenantgate"

    @Test func anAdministratorManagesIsolationInABrowser() async throws {
        // The console edits the policies: a copy, so the repository's examples stay as they are.
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: ProxyEndToEndTests.policies), to: policies)
        defer { try? FileManager.default.removeItem(at: policies) }
        let adminPort = try ServeProcess.freePort()
        let serve = try await ServeProcess(
            policies: policies.path,
            plainHTTP: true,
            extraArguments: [
                "--admin", "127.0.0.1:\(adminPort)", "--admin-jwks", "JWKS_PATH", "--admin-audience",
                Self.adminAudience,
                "--console-client-id", Self.consoleClientID,
                "--console-issuer", "http://127.0.0.1:STS_PLAIN_PORT/organizations/v2.0",
            ]
        )
        let contoso = MockConsoleUser.examples[0].tenant
        let information: [String: Any] = [
            "admin": "http://127.0.0.1:\(adminPort)",
            "proxy": serve.proxy,
            "ca": serve.caPath,
            "maker_token_contoso": try await serve.sts.makerToken(tenant: contoso),
            "admin_token_megan": try await serve.sts.adminToken(
                for: MockConsoleUser.examples[0],
                audience: Self.adminAudience
            ),
        ]
        let infoPath = serve.directory.appendingPathComponent("console.json").path
        try JSONSerialization.data(withJSONObject: information).write(to: URL(fileURLWithPath: infoPath))
        var arguments = [Self.script, "--info", infoPath]
        if let screenshots = ProcessInfo.processInfo.environment["TENANTGATE_SCREENSHOTS"] {
            arguments += ["--screenshots", screenshots]
        }
        let (status, output) = try await Self.python(arguments, deadline: 240)
        await serve.stop()
        #expect(status == 0, "\(output)")
        #expect(output.contains("console browser tests passed"), "\(output)")
    }

    /// Runs python3 with a deadline; its standard output and error together.
    static func python(_ arguments: [String], deadline: Int) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                        process.arguments = ["python3"] + arguments
                        let output = Pipe()
                        process.standardOutput = output
                        process.standardError = output
                        try process.run()
                        let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
                        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(deadline), execute: watchdog)
                        let data = output.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        watchdog.cancel()
                        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
                    }
                )
            }
        }
    }
}
