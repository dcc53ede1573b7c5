import Foundation
import LoopbackSimulation
import MockSTS
import TenantPolicy
import TestSupport
import Testing

/// `--parent-proxy`, through the real binary, with Debian's Squid on loopback as the network's web gateway:
/// intercepted exchanges, blind tunnels and plain http all leave through it (its access log says so), the
/// destination policy still judges what the client asked for, and the parent's failures (down, wanting
/// credentials) are 502s that name it.
// One test at a time: each starts Squid and proxies, and a whole suite on 2 cores starves others.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ParentProxyTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let northwind = ProxyEndToEndTests.northwind

    /// Loopback destinations opened for the mock's plain HTTP port, reached as `localhost`.
    static func serving(
        parent: String,
        extra: [String] = [],
        _ body: (ServeProcess) async throws -> Void
    ) async throws {
        try await ServeProcess.with(
            plainHTTP: true,
            extraArguments: [
                "--parent-proxy", parent, "--allow-destination", "127.0.0.0/8", "--allow-connect-port",
                "STS_PLAIN_PORT", "--allow-http-port", "STS_PLAIN_PORT", "--upstream-idle-timeout", "1",
            ] + extra,
            body
        )
    }

    static func exchange(_ serve: ServeProcess, signingIn tenant: TenantID) async throws -> (Int, String) {
        let response = try await serve.curl(
            serve.makerHeader(try await serve.sts.makerToken(tenant: contoso)) + [
                "-d", CreatorTrustTests.form, CreatorTrustTests.url(tenant),
            ]
        )
        return (response.status, response.body)
    }

    static func openIDPath(_ serve: ServeProcess) -> String {
        "http://localhost:\(serve.sts.plainPort ?? 0)/organizations/v2.0/.well-known/openid-configuration"
    }

    @Test func exchangesTunnelsAndPlainHTTPLeaveThroughTheParent() async throws {
        let squid = try await Squid()
        defer { squid.stop() }
        try await Self.serving(parent: "http://127.0.0.1:\(squid.port)") { serve in
            // An intercepted exchange: judged here, sent through the parent (the override's address stands in
            // for Entra's name).
            #expect(try await Self.exchange(serve, signingIn: Self.contoso).0 == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(serve.sts.port)"))
            // Still judged: Contoso's isolation refuses Northwind, and nothing reaches the mock for it.
            #expect(try await Self.exchange(serve, signingIn: Self.northwind).0 == 403)
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)

            // A blind tunnel by name: the parent is asked for the address judged here, so that its own resolver
            // cannot take the tunnel elsewhere (to an address of Entra's, by rebinding or split DNS).
            let plainPort = serve.sts.plainPort ?? 0
            let tunnelled = try await serve.curl(["-p", Self.openIDPath(serve)])
            #expect(tunnelled.status == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(plainPort)"))
            #expect(!squid.log().contains("CONNECT localhost"))

            // Plain http too (review 60 F1: sent in the absolute form by name, it went wherever the parent's
            // resolver said, past `--allow-destination`).
            #expect(try await serve.curl([Self.openIDPath(serve)]).status == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(plainPort)", times: 2))
            #expect(!squid.log().contains("GET http://localhost"))

            // The destination policy judges what the client asked for before any byte goes to the parent.
            #expect(try await serve.connectStatus(["-p", "https://10.255.255.1/"]) == 403)
            let refusal = serve.auditObjects().last { $0["setting"] as? String == "destinationPolicy" }
            #expect(refusal?["host"] as? String == "10.255.255.1")
            #expect(!squid.log().contains("10.255.255.1"))
        }
    }

    /// For a parent that filters by name, `--parent-proxy-connect name` asks it for the name, as the client did.
    @Test func aParentCanBeAskedForTheNameInstead() async throws {
        let squid = try await Squid()
        defer { squid.stop() }
        try await Self.serving(parent: "http://127.0.0.1:\(squid.port)", extra: ["--parent-proxy-connect", "name"]) {
            (serve: ServeProcess) async throws in
            #expect(try await serve.curl(["-p", Self.openIDPath(serve)]).status == 200)
            #expect(try await squid.waitForLog("CONNECT localhost:\(serve.sts.plainPort ?? 0)"))
            // Plain http in the absolute form, by name.
            #expect(try await serve.curl([Self.openIDPath(serve)]).status == 200)
            #expect(try await squid.waitForLog("GET http://localhost:\(serve.sts.plainPort ?? 0)/organizations"))
        }
    }

    @Test func theBypassGoesDirect() async throws {
        let squid = try await Squid()
        defer { squid.stop() }
        let bypass = ["--parent-proxy-bypass", "localhost"]
        try await Self.serving(parent: "http://127.0.0.1:\(squid.port)", extra: bypass) {
            (serve: ServeProcess) async throws in
            #expect(try await serve.curl(["-p", Self.openIDPath(serve)]).status == 200)
            #expect(try await Self.exchange(serve, signingIn: Self.contoso).0 == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(serve.sts.port)"))
            #expect(!squid.log().contains("localhost"))
        }
    }

    @Test func credentialsFromTheFileAndAParentThatWantsThem() async throws {
        let squid = try await Squid(user: "tenantgate", password: "s3cr3t-parent")
        defer { squid.stop() }
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = directory.appendingPathComponent("parent.credentials").path
        try "tenantgate:s3cr3t-parent\n".write(toFile: credentials, atomically: true, encoding: .utf8)
        chmod(credentials, 0o600)
        let parent = "http://127.0.0.1:\(squid.port)"

        try await Self.serving(parent: parent, extra: ["--parent-proxy-credentials", credentials]) {
            (serve: ServeProcess) async throws in
            #expect(try await Self.exchange(serve, signingIn: Self.contoso).0 == 200)
            #expect(try await serve.curl([Self.openIDPath(serve)]).status == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(serve.sts.port) tenantgate"))
            #expect(!serve.log().contains("s3cr3t-parent"))
        }
        // Without them: the parent's 407 is not passed off as the server's answer.
        try await Self.serving(parent: parent) { serve in
            let (status, body) = try await Self.exchange(serve, signingIn: Self.contoso)
            #expect(status == 502)
            #expect(body.contains("the parent proxy 127.0.0.1:\(squid.port) answered 407"), "\(body)")
            let plain = try await serve.curl([Self.openIDPath(serve)])
            #expect(plain.status == 502)
            #expect(plain.body.contains("parent proxy"), "\(plain.body)")
        }
    }

    @Test func aParentThatIsDownIsNamedIn502s() async throws {
        let port = try ServeProcess.freePort()
        try await Self.serving(parent: "http://127.0.0.1:\(port)") { serve in
            let (status, body) = try await Self.exchange(serve, signingIn: Self.contoso)
            #expect(status == 502)
            #expect(body.contains("the parent proxy 127.0.0.1:\(port) could not be reached"), "\(body)")
            let plain = try await serve.curl([Self.openIDPath(serve)])
            #expect(plain.status == 502)
            #expect(plain.body.contains("the parent proxy 127.0.0.1:\(port) could not be reached"), "\(plain.body)")
        }
    }

    @Test func anHTTPSParentIsSpokenToOverTLS() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o755)
        let chain = directory.appendingPathComponent("parent.pem").path
        let key = directory.appendingPathComponent("parent.key").path
        let made = try await ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", chain,
            ]
        )
        #expect(made.status == 0, "\(made.errors)")
        chmod(key, 0o644)  // read by Squid once it runs as `proxy`
        let squid = try await Squid(certificate: (chain, key))
        defer { squid.stop() }
        try await Self.serving(parent: "https://localhost:\(squid.port)", extra: ["--upstream-ca", chain]) {
            (serve: ServeProcess) async throws in
            #expect(try await Self.exchange(serve, signingIn: Self.contoso).0 == 200)
            #expect(try await squid.waitForLog("CONNECT 127.0.0.1:\(serve.sts.port)"))
        }
        // A parent whose certificate is not trusted is a 502 that says so, not a clear-text fallback.
        try await Self.serving(parent: "https://localhost:\(squid.port)") { (serve: ServeProcess) async throws in
            let (status, body) = try await Self.exchange(serve, signingIn: Self.contoso)
            #expect(status == 502)
            #expect(body.contains("the parent proxy localhost:\(squid.port)"), "\(body)")
        }
    }

    @Test func credentialsNeverComeFromTheCommandLineNorAnOpenFile() async throws {
        let inURL = try await ServeProcess.runToExit(["serve", "--parent-proxy", "http://user:pw@127.0.0.1:3128"])
        #expect(inURL.status != 0)
        #expect(inURL.errors.contains("--parent-proxy-credentials"), "\(inURL.errors)")
        #expect(!inURL.errors.contains("pw@"))

        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let open = directory.appendingPathComponent("open.credentials").path
        try "user:pw\n".write(toFile: open, atomically: true, encoding: .utf8)
        chmod(open, 0o644)
        let readable = try await ServeProcess.runToExit([
            "serve", "--parent-proxy", "http://127.0.0.1:3128", "--parent-proxy-credentials", open,
        ])
        #expect(readable.status != 0)
        #expect(readable.errors.contains("chmod 600"), "\(readable.errors)")

        let noPort = try await ServeProcess.runToExit(["serve", "--parent-proxy", "http://proxy.corp.example"])
        #expect(noPort.errors.contains("the port is required"), "\(noPort.errors)")
        let bypass = try await ServeProcess.runToExit([
            "serve", "--parent-proxy", "http://127.0.0.1:3128", "--parent-proxy-bypass", "10.0.0.1/8",
        ])
        #expect(bypass.errors.contains("--parent-proxy-bypass"), "\(bypass.errors)")
    }
}

/// Debian's Squid on a loopback port as the network's web gateway: no cache, names from its own hosts file
/// (`localhost`), CONNECT to any port, and Basic authentication when a user is given.
final class Squid: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let directory: URL

    /// - Parameter certificate: PEM certificate and key files: the listener is an HTTPS proxy.
    init(user: String? = nil, password: String? = nil, certificate: (chain: String, key: String)? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("squid-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Squid drops to the `proxy` user before it writes its logs.
        chmod(directory.path, 0o777)
        let path = directory.path
        try "127.0.0.1 localhost\n".write(toFile: "\(path)/hosts", atomically: true, encoding: .utf8)
        var access = "http_access allow all"
        if let user, let password {
            let hash = try await ChildProcess.run("/usr/bin/openssl", ["passwd", "-1", password])
            try "\(user):\(hash.output.trimmingCharacters(in: .whitespacesAndNewlines))\n".write(
                toFile: "\(path)/passwd",
                atomically: true,
                encoding: .utf8
            )
            access = """
                auth_param basic program /usr/lib/squid/basic_ncsa_auth \(path)/passwd
                acl authenticated proxy_auth REQUIRED
                http_access allow authenticated
                http_access deny all
                """
        }
        // A free port may be taken by another test before Squid binds it (it then exits 1 at once): a few tries.
        var attempt = 0
        while true {
            attempt += 1
            let port = try ServeProcess.freePort()
            do {
                process = try await Self.start(on: port, in: path, certificate: certificate, access: access)
                self.port = port
                return
            } catch  where attempt < 3 {
                continue
            }
        }
    }

    private static func start(
        on port: Int,
        in path: String,
        certificate: (chain: String, key: String)?,
        access: String
    ) async throws -> Process {
        let listener =
            certificate.map { "https_port 127.0.0.1:\(port) tls-cert=\($0.chain) tls-key=\($0.key)" }
            ?? "http_port 127.0.0.1:\(port)"
        try """
        \(listener)
        pid_filename \(path)/squid.pid
        cache_log \(path)/cache.log
        access_log stdio:\(path)/access.log
        cache deny all
        hosts_file \(path)/hosts
        dns_nameservers 127.0.0.1
        shutdown_lifetime 0 seconds
        cache_effective_user proxy
        \(access)

        """.write(toFile: "\(path)/squid.conf", atomically: true, encoding: .utf8)
        return try await LoopbackDaemon.start("/usr/sbin/squid", ["-N", "-f", "\(path)/squid.conf"], listeningOn: port)
    }

    func log() -> String {
        (try? String(contentsOfFile: directory.appendingPathComponent("access.log").path, encoding: .utf8)) ?? ""
    }

    /// Squid writes a line once a transaction ends: waits (at most 5 s) for one containing `text`.
    /// Whether the access log holds `text` at least `times` times within 5 s.
    func waitForLog(_ text: String, times: Int = 1) async throws -> Bool {
        for _ in 0..<100 {
            if log().components(separatedBy: text).count > times { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }
}
