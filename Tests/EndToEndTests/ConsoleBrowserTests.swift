import Foundation
import LoopbackSimulation
import MockSTS
import TestSupport
import Testing

/// The admin console in a real headless Chromium: the real `tenantgate serve` binary with the console on, the mock
/// STS signing administrators in (authorization code + PKCE over plain HTTP on loopback) and answering token
/// exchanges, curl through the proxy, and `Tests/Browser/console_test.py` driving the browser (Selenium with
/// Debian's chromium and chromium-driver, which `.ci/run` installs).
///
/// `TENANTGATE_SCREENSHOTS=DIR` keeps the pages' screenshots (the README's come from here).
@Suite(.serialized, .timeLimit(.minutes(10)))
struct ConsoleBrowserTests {
    static let script = "\(ProxyEndToEndTests.repository)/Tests/Browser/console_test.py"
    static let consoleClientID = LoopbackHarness.consoleClientID
    static let adminAudience = LoopbackHarness.adminAudience

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
        let outcome = try await ChildProcess.run("/usr/bin/env", ["python3"] + arguments, deadlineSeconds: 240)
        let (status, output) = (outcome.status, outcome.output + outcome.errors)
        await serve.stop()
        #expect(status == 0, "\(output)")
        #expect(output.contains("console browser tests passed"), "\(output)")
    }
}
