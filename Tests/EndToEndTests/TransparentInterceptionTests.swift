import Foundation
import LoopbackSimulation
import TenantPolicy
import TestSupport
import Testing

/// `--transparent-listen`, through the real binary, in a network namespace the test creates: curl, given no proxy
/// setting, connects to `login.microsoftonline.com` as its hosts file says (127.0.0.2), nftables redirects its
/// port-443 traffic to TenantGate, and TenantGate judges the connection by its original destination and its TLS
/// ClientHello, with the creator from the client address map. The mock STS (`tenantgate-mock`) plays Entra at
/// 127.0.0.2:443 and another server at 127.0.0.3:443.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TransparentInterceptionTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let northwind = ProxyEndToEndTests.northwind
    static let form = CreatorTrustTests.form

    @Test func aRedirectedExchangeIsJudgedAsAnExplicitOneIs() async throws {
        try await RedirectingNamespace.with { namespace in
            let allowed = try await namespace.curl(["-d", Self.form, CreatorTrustTests.url(Self.contoso)])
            #expect(allowed.status == 200, "\(allowed.body)")
            #expect(allowed.body.contains("access_token"))
            let decided = namespace.auditObjects().last { $0["decision"] as? String == "allowed" }
            #expect(decided?["creator_tenant"] as? String == Self.contoso.description)

            // Contoso's isolation refuses Northwind: the same answer as through the explicit listener.
            let blocked = try await namespace.curl(["-d", Self.form, CreatorTrustTests.url(Self.northwind)])
            #expect(blocked.status == 403)
            #expect(blocked.body.contains(#""sign_in_tenant":"\#(Self.northwind)""#), "\(blocked.body)")
            let refusal = namespace.auditObjects().last { $0["decision"] as? String == "blocked" }
            #expect(refusal?["setting"] as? String == "tenantIsolation")
            #expect(refusal?["creator_tenant"] as? String == Self.contoso.description)
        }
    }

    @Test func aHelloNamingAHostTheConnectionWasNotGoingToIsRefused() async throws {
        try await RedirectingNamespace.with { namespace in
            // The client's own resolution says 127.0.0.3; the hello says Entra's name, which resolves to 127.0.0.2.
            let forged = try await namespace.curl([
                "--resolve", "login.microsoftonline.com:443:127.0.0.3", "-d", Self.form,
                CreatorTrustTests.url(Self.contoso),
            ])
            #expect(forged.status == 0)
            let refusal = namespace.auditObjects().last { $0["setting"] as? String == "tlsServerName" }
            let reason = refusal?["reason"] as? String ?? ""
            #expect(
                reason.contains("resolves to 127.0.0.2 here, but the connection was going to 127.0.0.3"),
                "\(reason)"
            )
            #expect(refusal?["host"] as? String == "login.microsoftonline.com")

            // No name at all, to an address: judged as a CONNECT to that address is, and refused.
            #expect(try await namespace.curl(["-k", "https://127.0.0.3/"]).status == 0)
            let unnamed = namespace.auditObjects().last { $0["setting"] as? String == "tlsServerName" }
            #expect((unnamed?["reason"] as? String ?? "").contains("names no server (SNI)"))
        }
    }

    /// Review 32: a redirected hello whose name must be looked up was judged after the lookup, and the refusal was
    /// dropped when the client had left meanwhile: a probe left no trace. Here the lookup takes a second (the
    /// namespace's name server never answers) and the client resets after 0.2 s: each refusal is audited.
    @Test func aRefusalIsAuditedWhenTheClientHasAlreadyLeft() async throws {
        try await RedirectingNamespace.with { namespace in
            let sent = try await namespace.run(
                "python3",
                [
                    "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/hello_then_reset.py",
                    "unresolvable.example", "127.0.0.3", RedirectingNamespace.client, "3", "0.2",
                ]
            )
            #expect(sent == "sent 3")
            var refusals: [[String: Any]] = []
            for _ in 0..<80 {
                refusals = namespace.auditObjects().filter { $0["setting"] as? String == "tlsServerName" }
                if refusals.count >= 3 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(refusals.count == 3)
            #expect((refusals.first?["reason"] as? String ?? "").contains("does not resolve here"), "\(refusals)")
        }
    }

    @Test func otherHostsAreTunnelledToWhereTheyWereGoingAndDirectConnectionsRefused() async throws {
        try await RedirectingNamespace.with { namespace in
            // Not intercepted: a blind tunnel to the original destination (the server there answers 404).
            let other = try await namespace.curl(["-k", "https://other.test/anything"])
            #expect(other.status == 404, "\(other.body)")

            // Straight to the transparent listener, not redirected: there is no original destination.
            let direct = try await namespace.curl(
                ["-k", "https://127.0.0.1:\(RedirectingNamespace.listenerPort)/"],
                from: "127.0.0.1"
            )
            #expect(direct.status == 0)
            let refusal = namespace.auditObjects().last { $0["setting"] as? String == "destinationPolicy" }
            #expect((refusal?["reason"] as? String ?? "").contains("not redirected by the kernel"))
        }
    }
}

/// A network namespace with only its loopback: `tenantgate serve` with a transparent listener on 127.0.0.1:3129,
/// the mock at 127.0.0.2:443 (`login.microsoftonline.com`) and 127.0.0.3:443 (`other.test`), named by the
/// namespace's own hosts file (`ip netns exec` mounts `/etc/netns/NAME/hosts`), and an nftables rule that
/// redirects port-443 connections from the client address 127.0.0.9 (mapped to Contoso) to the listener.
/// TenantGate's own connections, from 127.0.0.1, are not redirected.
final class RedirectingNamespace: @unchecked Sendable {
    static let listenerPort = 3129
    static let client = "127.0.0.9"
    static let silentNameServer = "127.0.0.53"

    let name: String
    let directory: URL
    private var processes: [Process] = []

    var auditPath: String { directory.appendingPathComponent("audit.jsonl").path }
    var caPath: String { directory.appendingPathComponent("ca.pem").path }

    static func with(_ body: (RedirectingNamespace) async throws -> Void) async throws {
        let namespace = try await RedirectingNamespace()
        do {
            try await namespace.start()
            try await body(namespace)
        } catch {
            namespace.stop()
            throw error
        }
        namespace.stop()
    }

    private init() async throws {
        name = "tenantgate-\(UUID().uuidString.prefix(8).lowercased())"
        directory = try ServeBinaryTests.temporaryDirectory()
        let hosts = "/etc/netns/\(name)"
        try FileManager.default.createDirectory(atPath: hosts, withIntermediateDirectories: true)
        try "127.0.0.1 localhost\n127.0.0.2 login.microsoftonline.com\n127.0.0.3 other.test\n".write(
            toFile: "\(hosts)/hosts",
            atomically: true,
            encoding: .utf8
        )
        // Other names go to a name server that never answers (`start`): their lookups take a second.
        try "nameserver \(Self.silentNameServer)\noptions timeout:1 attempts:1\n".write(
            toFile: "\(hosts)/resolv.conf",
            atomically: true,
            encoding: .utf8
        )
        try await Self.require(["netns", "add", name])
        try await Self.require(["netns", "exec", name, "ip", "link", "set", "lo", "up"])
        let rules = directory.appendingPathComponent("redirect.nft").path
        try """
        table ip tenantgate {
            chain output {
                type nat hook output priority -100; policy accept;
                ip saddr \(Self.client) tcp dport 443 redirect to :\(Self.listenerPort)
            }
        }

        """.write(toFile: rules, atomically: true, encoding: .utf8)
        try await Self.require(["netns", "exec", name, "nft", "-f", rules])
    }

    private static func require(_ arguments: [String]) async throws {
        let outcome = try await ChildProcess.run("/usr/sbin/ip", arguments)
        guard outcome.status == 0 else {
            throw Curl.Failure(description: "ip \(arguments.joined(separator: " ")): \(outcome.errors)")
        }
    }

    /// The two mock servers, then `serve` with the client address map.
    private func start() async throws {
        let binaries = URL(fileURLWithPath: ServeProcess.binary).deletingLastPathComponent()
        let mock = binaries.appendingPathComponent("tenantgate-mock").path
        let entra = try await launch(mock, ["--listen", "127.0.0.2:443"])
        let mockCA = directory.appendingPathComponent("mock-ca.pem").path
        try entra.split(separator: "\n").filter { !$0.hasPrefix("listening on") }.joined(separator: "\n")
            .write(toFile: mockCA, atomically: true, encoding: .utf8)
        _ = try await launch(mock, ["--listen", "127.0.0.3:443"])
        _ = try await launch(
            "/usr/bin/python3",
            [
                "-c",
                "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                    + "s.bind(('\(Self.silentNameServer)', 53)); print('listening on', flush=True); time.sleep(600)",
            ]
        )
        let config = directory.appendingPathComponent("tenantgate.yaml").path
        try #"creator-by-client-address: {"\#(Self.client)/32": "\#(ProxyEndToEndTests.contoso)"}"#.write(
            toFile: config,
            atomically: true,
            encoding: .utf8
        )
        _ = try await launch(
            ServeProcess.binary,
            [
                "serve", "--config", config, "--listen", "127.0.0.1:3128", "--transparent-listen",
                "127.0.0.1:\(Self.listenerPort)", "--policies", ProxyEndToEndTests.policies, "--upstream-ca", mockCA,
                "--allow-destination", "127.0.0.0/8", "--ca-cert", caPath, "--ca-key",
                directory.appendingPathComponent("ca.key").path, "--audit-log", auditPath,
            ]
        )
    }

    /// Runs `executable` in the namespace and returns what it printed up to its `listening on` line (10 s at most).
    private func launch(_ executable: String, _ arguments: [String]) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
        process.arguments = ["netns", "exec", name, executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes.append(process)
        let handle = output.fileHandleForReading
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
                DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: watchdog)
                var text = ""
                while !text.contains("listening on") {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                watchdog.cancel()
                guard text.contains("listening on") else {
                    return continuation.resume(throwing: Curl.Failure(description: "\(executable) did not start"))
                }
                continuation.resume(returning: text)
            }
        }
    }

    /// `executable` run in the namespace: what it printed, trimmed.
    func run(_ executable: String, _ arguments: [String]) async throws -> String {
        let outcome = try await ChildProcess.run("/usr/sbin/ip", ["netns", "exec", name, executable] + arguments)
        return outcome.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// curl in the namespace with no proxy setting, from the mapped client address unless `source` is given:
    /// the status (0 when the connection failed) and the body.
    func curl(_ arguments: [String], from source: String = client) async throws -> LoopbackHarness.Response {
        let outcome = try await ChildProcess.run(
            "/usr/sbin/ip",
            [
                "netns", "exec", name, "curl", "-s", "-m", "10", "--interface", source, "--cacert", caPath, "-w",
                "\n%{http_code}",
            ]
                + arguments
        )
        let lines = outcome.output.split(separator: "\n", omittingEmptySubsequences: false)
        return LoopbackHarness.Response(
            status: lines.last.flatMap { Int($0) } ?? 0,
            body: lines.dropLast().joined(separator: "\n")
        )
    }

    func auditObjects() -> [[String: Any]] {
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { ProxyEndToEndTests.auditObject(String($0)) }
    }

    func stop() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        _ = try? ChildProcess.runBlocking("/usr/sbin/ip", ["netns", "del", name])
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(name)")
        try? FileManager.default.removeItem(at: directory)
    }
}
