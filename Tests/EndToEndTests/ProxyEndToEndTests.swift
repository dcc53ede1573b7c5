import ExchangePolicy
import Foundation
import LoopbackSimulation
import MockSTS
import NetworkPolicy
import ProxyServer
import TenantGateApp
import TenantPolicy
import TestSupport
import Testing

/// Real sockets on loopback: the mock STS (TLS, signed JWTs), the proxy as `serve` builds it, curl as the client.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ProxyEndToEndTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let policies = "\(repository)/policies"
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind
    static let adatum = ExampleTenants.adatum

    /// Runs `body` against a fresh loopback system and always stops it.
    static func withHarness(
        policiesDirectory: String,
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        _ body: (LoopbackHarness) async throws -> Void
    ) async throws {
        let harness = try await LoopbackHarness(policiesDirectory: policiesDirectory, configure: configure)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    static func auditObject(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }

    /// Seed 000's three tables (C = Contoso, F = Fabrikam; pairs C→C, C→F, F→C, F→F), written here rather than read
    /// from `simulate`'s own expectations, then the guest and Azure DevOps rows, then the resource-host rows: a Graph
    /// token minted elsewhere before and after a policy change (on a new connection and on one kept open across it),
    /// and Azure DevOps organisations mapped and not.
    @Test func simulateReproducesTheSeedTables() async throws {
        let rows = try await Simulation(policiesDirectory: Self.policies).run()
        let seed: [(status: Int, audit: String)] = [
            (200, "allowed"), (403, "blocked"), (403, "blocked"), (200, "allowed"),  // two-way isolation
            (200, "allowed"), (200, "allowed"), (403, "blocked"), (200, "allowed"),  // outbound allowlist
            (200, "allowed"), (200, "allowed"), (200, "allowed"), (200, "allowed"),  // bidirectional allowlist
            (200, "allowed"),  // a guest in its host tenant
            (200, "unenforced"),  // Azure DevOps: passed and recorded
            (200, "allowed"), (403, "blocked"),  // a Fabrikam Graph token, under the outbound allowlist, then two-way
            (403, "blocked"),  // the same, on a connection opened (and allowed) before the change
            (403, "blocked"), (200, "allowed"),  // Azure DevOps organisations of Fabrikam and of Contoso
            (403, "blocked"),  // an organisation the directory does not map (Contoso's isolation could refuse it)
        ]
        #expect(rows.map { "\($0.status) \($0.auditDecision)" } == seed.map { "\($0.status) \($0.audit)" })
    }

    @Test func allowedAndBlockedExchangesAreAuditedFieldByField() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies) { harness in

            let allowed = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token"
            )
            #expect(allowed.status == 200)
            #expect(allowed.body.contains("access_token"))

            // Northwind is named in the path: refused before anything goes upstream.
            let headerFile = harness.directory.appendingPathComponent("blocked-headers.txt").path
            let blocked = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.northwind)/oauth2/v2.0/token",
                extraCurlArguments: ["-D", headerFile]
            )
            #expect(blocked.status == 403)
            // SPEC 4 names the media type exactly; JSON defines no charset parameter (RFC 8259 11).
            let headers = (try? String(contentsOfFile: headerFile, encoding: .utf8)) ?? ""
            #expect(headers.lowercased().contains("\r\ncontent-type: application/json\r\n"), "\(headers)")
            #expect(harness.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)
            let body = Self.auditObject(blocked.body)
            #expect(body["error"] as? String == "access_denied")
            #expect(body["error_codes"] as? [Int] == [500212])
            let isolation = body["tenant_isolation"] as? [String: Any]
            #expect(isolation?["directions"] as? [String] == ["outbound"])
            #expect(isolation?["creator_tenant"] as? String == Self.contoso.description)
            #expect(isolation?["sign_in_tenant"] as? String == Self.northwind.description)
            #expect(!blocked.body.contains("\"access_token\":"))

            let inbound = try await harness.tokenRequest(creator: Self.contoso, path: "/\(Self.adatum)/oauth2/token")
            #expect(inbound.status == 403)
            #expect(Self.auditObject(inbound.body)["error_codes"] as? [Int] == [500213])

            let lines = harness.auditLines()
            try #require(lines.count == 3)
            let first = Self.auditObject(lines[0])
            #expect(first["decision"] as? String == "allowed")
            #expect(first["creator_tenant"] as? String == Self.contoso.description)
            #expect(first["sign_in_tenant"] as? String == Self.fabrikam.description)
            #expect(first["host"] as? String == "login.microsoftonline.com")
            #expect(first["path"] as? String == "/\(Self.fabrikam)/oauth2/v2.0/token")
            #expect(first["client_id"] as? String == "e002ab83-2360-4092-bd0b-5a4c52f2f15a")
            #expect((first["rule"] as? String)?.contains("outbound") == true)
            let second = Self.auditObject(lines[1])
            #expect(second["decision"] as? String == "blocked")
            #expect(second["directions"] as? [String] == ["outbound"])
            #expect(second["correlation_id"] as? String == body["correlation_id"] as? String)
            #expect(Self.auditObject(lines[2])["directions"] as? [String] == ["inbound"])
            let everything = lines.joined()
            #expect(!everything.contains("s3cr3t-value"))
            #expect(!everything.contains("eyJ"))
            #expect(!everything.contains("refresh"))
        }
    }

    @Test func reportOnlyLetsBlockedExchangesThroughAsWouldBlock() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies, configure: { $0.mode = .reportOnly }) { harness in
            let response = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.northwind)/oauth2/v2.0/token"
            )
            #expect(response.status == 200)
            #expect(response.body.contains("access_token"))
            #expect(Self.auditObject(harness.auditLines().last ?? "")["decision"] as? String == "would_block")
        }
    }

    @Test func azureDevOpsPassesUnenforcedOrIsBlockedOnRequest() async throws {
        let passing = try await LoopbackHarness(policiesDirectory: Self.policies)
        let passed = try await passing.tokenRequest(
            creator: Self.contoso,
            host: "app.vssps.visualstudio.com",
            path: "/oauth2/token",
            form:
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=ado-code&client_assertion=ado-secret"
        )
        #expect(passed.status == 200)
        let line = Self.auditObject(passing.auditLines().last ?? "")
        #expect(line["decision"] as? String == "unenforced")
        #expect(line["host"] as? String == "app.vssps.visualstudio.com")
        #expect(line["creator_tenant"] as? String == Self.contoso.description)
        // The ADO token carries Northwind's tid; it must not be trusted as a sign-in tenant.
        #expect(line["sign_in_tenant"] is NSNull)
        #expect(!passing.auditLines().joined().contains("ado-secret"))
        // Its session-token API hands over a token in a member of its own (`token`): passed, and made visible.
        let session = try await passing.tokenRequest(
            creator: Self.contoso,
            host: "app.vssps.visualstudio.com",
            path: "/_apis/token/sessiontokens?api-version=7.1-preview.1"
        )
        #expect(session.status == 200 && session.body.contains(#""token""#), "\(session.body)")
        #expect(passing.auditLines().count == 2)
        #expect(Self.auditObject(passing.auditLines().last ?? "")["decision"] as? String == "unenforced")
        await passing.stop()

        let blocking = try await LoopbackHarness(policiesDirectory: Self.policies) { $0.nonEntraSTS = .block }
        let refused = try await blocking.tokenRequest(
            creator: Self.contoso,
            host: "app.vssps.visualstudio.com",
            path: "/oauth2/token"
        )
        #expect(refused.status == 403)
        #expect(refused.body.contains("not a Microsoft Entra STS"))
        #expect(
            (Self.auditObject(refused.body)["tenant_isolation"] as? [String: Any])?["directions"] as? [String] == [
                "outbound"
            ]
        )
        #expect(blocking.sts.tokenRequestCount(tenantSegment: "ado") == 0)
        // A token it hands over on another path is refused as well (review 28: its session-token API).
        let elsewhere = try await blocking.tokenRequest(
            creator: Self.contoso,
            host: "app.vssps.visualstudio.com",
            path: "/_apis/token/sessiontokens?api-version=7.1-preview.1"
        )
        #expect(elsewhere.status == 403, "\(elsewhere.body)")
        #expect(!elsewhere.body.contains("eyJ"))
        #expect(Self.auditObject(blocking.auditLines().last ?? "")["decision"] as? String == "blocked")
        await blocking.stop()

        // Report-only shows what `block` would do: the token passes, and the line says it would have been refused.
        let trying = try await LoopbackHarness(policiesDirectory: Self.policies) {
            $0.nonEntraSTS = .block
            $0.mode = .reportOnly
        }
        let tried = try await trying.tokenRequest(
            creator: Self.contoso,
            host: "app.vssps.visualstudio.com",
            path: "/oauth2/token"
        )
        #expect(tried.status == 200)
        #expect(Self.auditObject(trying.auditLines().last ?? "")["decision"] as? String == "would_block")
        await trying.stop()
    }

    /// The Microsoft account STS of personal accounts hands over opaque tokens of its own, and with `openid` an ID
    /// token in Entra's format of the personal-accounts tenant. That ID token is judged as the same sign-in is at
    /// Entra's hosts (review 36 F2: a personal-account sign-in refused at `/consumers` went through `login.live.com`);
    /// an answer without it is recorded `unenforced`, and one naming another tenant is not believed.
    /// `--non-entra-sts block` refuses the STS before the request leaves.
    @Test func theMicrosoftAccountSTSIsJudgedByItsIDTokenOrRecordedAsNotEntra() async throws {
        let form = "grant_type=refresh_token&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&refresh_token=M.C1-x"
        let harness = try await LoopbackHarness(policiesDirectory: Self.policies)
        func signIn(_ extra: String) async throws -> (status: Int, body: String, line: [String: Any]) {
            let answer = try await harness.tokenRequest(
                creator: Self.contoso,
                host: "login.live.com",
                path: "/oauth20_token.srf",
                form: form + extra
            )
            return (answer.status, answer.body, Self.auditObject(harness.auditLines().last ?? ""))
        }
        let personal = TenantID.microsoftAccounts.description
        let refused = try await signIn("&scope=openid%20offline_access")
        #expect(refused.status == 403 && !refused.body.contains("EwB"), "\(refused.body)")
        #expect(refused.line["decision"] as? String == "blocked")
        #expect(refused.line["sign_in_tenant"] as? String == personal)

        let opaque = try await signIn("&scope=offline_access")
        #expect(opaque.status == 200 && opaque.body.contains("EwB"), "\(opaque.body)")
        #expect(opaque.line["decision"] as? String == "unenforced")
        #expect(opaque.line["sign_in_tenant"] is NSNull)
        let notItsTenant = try await signIn("&scope=openid&mock_tid=\(Self.fabrikam)")
        #expect(notItsTenant.line["decision"] as? String == "unenforced")
        #expect(notItsTenant.line["sign_in_tenant"] is NSNull)

        let allowing = FileManager.default.temporaryDirectory.appendingPathComponent("msa-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.policies, toPath: allowing)
        defer { try? FileManager.default.removeItem(atPath: allowing) }
        let contoso = "\(allowing)/contoso.yaml"
        try String(contentsOfFile: contoso, encoding: .utf8)
            .replacingOccurrences(
                of: "  rules:\n",
                with: "  rules:\n    - {tenant: \(personal), direction: outbound}\n"
            )
            .write(toFile: contoso, atomically: true, encoding: .utf8)
        try harness.usePolicies(allowing)
        let allowed = try await signIn("&scope=openid%20offline_access")
        #expect(allowed.status == 200 && allowed.body.contains("EwB"), "\(allowed.body)")
        #expect(allowed.line["decision"] as? String == "allowed")
        #expect(allowed.line["sign_in_tenant"] as? String == personal)
        await harness.stop()

        let blocking = try await LoopbackHarness(policiesDirectory: Self.policies) { $0.nonEntraSTS = .block }
        let blocked = try await blocking.tokenRequest(
            creator: Self.contoso,
            host: "login.live.com",
            path: "/oauth20_token.srf",
            form: form
        )
        #expect(blocked.status == 403)
        #expect(!blocked.body.contains("EwB") && blocked.body.contains("not a Microsoft Entra STS"))
        #expect(blocking.sts.tokenRequestCount(tenantSegment: "msa") == 0, "nothing upstream")
        #expect(Self.auditObject(blocking.auditLines().last ?? "")["decision"] as? String == "blocked")
        await blocking.stop()
    }

    @Test func missingCreatorGets407AndAnErrorLine() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies) { harness in
            let response = try await harness.tokenRequest(creator: nil, path: "/\(Self.fabrikam)/oauth2/v2.0/token")
            #expect(response.status == 407)
            #expect(response.body.contains("creator_tenant_unknown"))
            #expect(Self.auditObject(harness.auditLines().last ?? "")["decision"] as? String == "error")
        }
    }

    @Test func unreadableTokenFailsClosedAndDisagreementBlocks() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies) { harness in
            let malformed = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x&mock_token=malformed"
            )
            #expect(malformed.status == 403)
            #expect(!malformed.body.contains("\"access_token\":"))
            let disagreeing = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x&mock_tid=\(Self.northwind)"
            )
            #expect(disagreeing.status == 403)
            #expect(Self.auditObject(harness.auditLines().last ?? "")["reason"] as? String ?? "" != "")
        }
    }

    @Test func upstreamDownGives502AndAnErrorLine() async throws {
        try await Self.withHarness(
            policiesDirectory: Self.policies,
            configure: { $0.upstreamOverrides["login.microsoftonline.com:443"] = HostPort(host: "127.0.0.1", port: 9) }
        ) { harness in
            let response = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token"
            )
            #expect(response.status == 502)
            #expect(Self.auditObject(harness.auditLines().last ?? "")["decision"] as? String == "error")
        }
    }

    @Test func untrustedUpstreamCertificateGives502() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies, configure: { $0.upstreamCAFiles = [] }) {
            harness in
            let response = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token"
            )
            #expect(response.status == 502)
            #expect(response.body.contains("certificate"))
        }
    }

    @Test func oversizedHeadersGetA4xx() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies) { harness in
            let huge = String(repeating: "a", count: 100_000)
            let response = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                extraCurlArguments: ["-H", "X-Big: \(huge)"]
            )
            #expect((400..<500).contains(response.status))
        }
    }

    /// Over every connection the proxy holds at most its body budget in memory: beyond, 503, and the next
    /// exchange, once the budget is free again, is served.
    @Test func bodiesBeyondTheProxysMemoryBudgetGet503() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies, configure: { $0.bodyMemoryBudgetBytes = 4096 }) {
            harness in
            let assertion = String(repeating: "a", count: 5000)
            let refused = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x&client_assertion=\(assertion)"
            )
            #expect(refused.status == 503)
            #expect(harness.sts.tokenRequestCount(tenantSegment: Self.fabrikam.description) == 0)
            let served = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x"
            )
            #expect(served.status == 200)
        }
    }

    @Test func bodiesOverTheInspectionLimitAreRefusedInEitherDirection() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies, configure: { $0.maxBodyBytes = 4096 }) { harness in
            // A request body over the limit: one 413 answer, and nothing reaches the STS.
            let assertion = String(repeating: "a", count: 5000)
            let request = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.adatum)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x&client_assertion=\(assertion)"
            )
            #expect(request.status == 413)
            #expect(request.body.contains("inspection limit"))
            #expect(harness.sts.tokenRequestCount(tenantSegment: Self.adatum.description) == 0)

            // A token response over the limit (each token carries 80 group IDs): 502, never the token.
            let groups = (0..<80).map { _ in UUID().uuidString.lowercased() }.joined(separator: ",")
            let response = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token",
                form: "grant_type=client_credentials&client_id=x&mock_groups=\(groups)"
            )
            #expect(response.status == 502)
            #expect(response.body.contains("larger than the inspection limit"))
            #expect(!response.body.contains("access_token"))
            #expect(Self.auditObject(harness.auditLines().last ?? "")["decision"] as? String == "error")

            // The same session limits apply to the next, ordinary exchange, which goes through.
            let ordinary = try await harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token"
            )
            #expect(ordinary.status == 200)
        }
    }

    @Test func nonInterceptedHostsGetABlindTunnelAndOtherPortsAreRefused() async throws {
        try await Self.withHarness(policiesDirectory: Self.policies) { harness in
            let stsCA = harness.directory.appendingPathComponent("sts-ca.pem").path
            // 127.0.0.1 is not an STS host: the proxy splices bytes, and curl verifies the mock's own certificate.
            let tunnelled = try await Curl.run([
                "-s", "-m", "10", "-w", "\n%{http_code}", "--proxy", "http://127.0.0.1:\(harness.proxyPort)",
                "--cacert", stsCA, "https://127.0.0.1:\(harness.sts.port)/healthz",
            ])
            #expect(tunnelled.hasSuffix("\n200"))
            #expect(tunnelled.contains("ok"))
            #expect(harness.auditLines().isEmpty)
            // CONNECT to a port that is not allowed is refused before any connection is made.
            let refused = try await Curl.run([
                "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy",
                "http://127.0.0.1:\(harness.proxyPort)", "https://127.0.0.1:25/",
            ])
            #expect(refused == "403")
        }
    }

    @Test func plainHTTPRequestsAreForwarded() async throws {
        // A real plain-HTTP server on loopback (Python's, as found on the machine), bounded in time.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "hello through the proxy\n".write(
            to: directory.appendingPathComponent("index.txt"),
            atomically: true,
            encoding: .utf8
        )
        // A port the kernel just handed out, and a start that waits until the server listens (or says why not):
        // a random port could be held by another test, and the server then never listens there.
        let port = try ServeProcess.freePort()
        let server = try await LoopbackDaemon.start(
            "/usr/bin/env",
            ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory.path, "\(port)"],
            listeningOn: port
        )
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        try await Self.withHarness(
            policiesDirectory: Self.policies,
            configure: { $0.allowedPlainHTTPPorts.insert(port) }
        ) { harness in
            let output = try await Curl.run([
                "-s", "-m", "10", "-w", "\n%{http_code}", "--proxy", "http://127.0.0.1:\(harness.proxyPort)",
                "http://127.0.0.1:\(port)/index.txt",
            ])
            #expect(output == "hello through the proxy\n\n200")
        }
    }

    /// An origin that sends `100 Continue` without end and never a final answer: NIO's decoder drops interim answers
    /// unseen, so the proxy read them at full speed until the answer's deadline (30 s of a core for each such
    /// request). Past 64 KiB of them the answer is a 502, at once.
    @Test func anOriginThatOnlySaysContinueIsCutOff() async throws {
        let port = try ServeProcess.freePort()
        let origin = try await LoopbackDaemon.start(
            "/usr/bin/env",
            ["python3", "\(Self.repository)/Tests/EndToEndTests/Clients/interim_flood.py", "\(port)"],
            listeningOn: port
        )
        defer {
            kill(origin.processIdentifier, SIGKILL)
            origin.waitUntilExit()
        }
        try await Self.withHarness(
            policiesDirectory: Self.policies,
            configure: { $0.allowedPlainHTTPPorts.insert(port) }
        ) { harness in
            let started = ContinuousClock.now
            let output = try await Curl.run([
                "-s", "-m", "20", "-o", "/dev/null", "-w", "%{http_code}", "--proxy",
                "http://127.0.0.1:\(harness.proxyPort)", "http://127.0.0.1:\(port)/",
            ])
            #expect(output == "502")
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    /// HTTP pipelining inside an intercepted session: three token requests in one write, answered in order, each
    /// decided on its own (openssl's client sends them as they are; curl cannot pipeline).
    @Test func pipelinedExchangesAreAnsweredInOrder() async throws {
        try await Self.withHarness(
            policiesDirectory: Self.policies,
            configure: { $0.defaultCreatorTenant = Self.contoso }
        ) {
            harness in
            let form = "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a"
            func request(_ tenant: TenantID, close: Bool = false) -> String {
                "POST /\(tenant)/oauth2/v2.0/token HTTP/1.1\r\nHost: login.microsoftonline.com\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n"
                    + (close ? "Connection: close\r\n" : "") + "\r\n" + form
            }
            let output = try await Self.openSSLClient(
                proxyPort: harness.proxyPort,
                caPath: harness.caPath,
                input: request(Self.fabrikam) + request(Self.northwind) + request(Self.fabrikam, close: true)
            )
            // Bodies carry no line end, so the next status line follows a body directly.
            let statusLines = output.components(separatedBy: "HTTP/1.1 ").dropFirst().map {
                "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "")
            }
            #expect(statusLines == ["HTTP/1.1 200 OK", "HTTP/1.1 403 Forbidden", "HTTP/1.1 200 OK"])
            let decisions = harness.auditLines().map { Self.auditObject($0)["decision"] as? String }
            #expect(decisions == ["allowed", "blocked", "allowed"])
        }
    }

    /// `openssl s_client` through the proxy to login.microsoftonline.com, `input` sent at once, the output read
    /// until the proxy closes the session; killed after `timeoutSeconds`.
    static func openSSLClient(
        proxyPort: Int,
        caPath: String,
        input: String,
        serverName: String = "login.microsoftonline.com",
        timeoutSeconds: Double = 20
    ) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        let process = Process()
                        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
                        process.arguments = [
                            "s_client", "-quiet", "-proxy", "127.0.0.1:\(proxyPort)", "-connect",
                            "login.microsoftonline.com:443",
                            "-servername", serverName, "-CAfile", caPath, "-verify_return_error",
                        ]
                        let stdin = Pipe()
                        let stdout = Pipe()
                        process.standardInput = stdin
                        process.standardOutput = stdout
                        process.standardError = FileHandle.nullDevice
                        try process.run()
                        let watchdog = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
                        DispatchQueue.global().asyncAfter(deadline: .now() + timeoutSeconds, execute: watchdog)
                        stdin.fileHandleForWriting.write(Data(input.utf8))
                        try stdin.fileHandleForWriting.close()
                        let data = stdout.fileHandleForReading.readDataToEndOfFile()
                        process.waitUntilExit()
                        watchdog.cancel()
                        return String(decoding: data, as: UTF8.self)
                    }
                )
            }
        }
    }
}
