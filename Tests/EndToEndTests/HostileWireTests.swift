import Foundation
import LoopbackSimulation
import MockSTS
import TenantGateApp
import TenantPolicy
import TestSupport
import Testing

/// Byte sequences that once stopped the proxy from serving, sent through the real `tenantgate serve` on raw
/// sockets: each gets its answer or a close, and an ordinary exchange works afterwards in the same process.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostileWireTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let fabrikam = ProxyEndToEndTests.fabrikam
    static let form = HostileClientTests.form

    /// The crash of issue 23: a blank line inside a maker token ends the CONNECT early, the cut token is refused,
    /// and the bytes after the blank line (its tail) reached a handler that speaks only HTTP parts, which trapped
    /// the whole process. Sent as one write, as one read: the decoder held the tail when the refusal came.
    @Test(arguments: [
        "Proxy-Authorization: Bearer eyJhbGciOi\\r\\n\\r\\nJ9.K-RMfP6eRF0b3AA\\r\\n\\r\\n",
        "Proxy-Authorization: Bearer eyJhbGciOi\\r\\n\\r\\n\\x16\\x03\\x01\\x00\\x05\\x01\\x00\\x00\\x01\\x00",
        "Proxy-Authorization: Bearer a.b.c\\r\\n\\r\\nGET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
    ])
    func bytesAfterARefusedConnectNeverReachTheHTTPHandler(_ rest: String) async throws {
        try await ServeProcess.with { serve in
            let (_, line) = try await DeadlineTests.raw(
                serve.proxyPort,
                "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: login.microsoftonline.com:443\\r\\n" + rest
            )
            #expect(line.hasPrefix("HTTP/1.1 407"), "first line: \(line)")
            try await Self.expectServing(serve)
        }
    }

    /// The same bytes after a CONNECT that is accepted: they are the start of the session, kept in order.
    @Test func bytesAfterAnAcceptedConnectAreHeldForTheSession() async throws {
        try await ServeProcess.with(extraArguments: ["--default-creator-tenant", Self.contoso.description]) { serve in
            let (_, line) = try await DeadlineTests.raw(
                serve.proxyPort,
                "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nJ9.K-RMfP6eRF0b3AA\\r\\n\\r\\n",
                seconds: 3
            )
            #expect(line == "HTTP/1.1 200 OK")
            try await Self.expectServing(serve)
        }
    }

    static let rawSession = "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/raw_session.py"

    /// Framing the proxy cannot honour gets its answer at once, not the head deadline's 408 (or a body read as what
    /// it is not): `gzip, chunked`, which llhttp reads as chunked and hands on still gzipped, is 501, and a
    /// `Content-Length` past 2^63 − 1, which llhttp takes (up to 2^64 − 1), is 413 where the body would be held.
    @Test(arguments: [
        ("login.microsoftonline.com", "POST /common/oauth2/v2.0/token", "Transfer-Encoding: gzip, chunked", 501),
        ("login.microsoftonline.com", "POST /common/oauth2/v2.0/token", "Content-Length: 18446744073709551615", 413),
        ("graph.microsoft.com", "PUT /mock/stream/upload", "Transfer-Encoding: gzip, chunked", 501),
        ("graph.microsoft.com", "POST /v1.0/me", "Content-Length: 18446744073709551615", 413),
    ])
    func framingTheProxyCannotHonourIsAnsweredAtOnce(
        host: String,
        request: String,
        framing: String,
        status: Int
    )
        async throws
    {
        try await ServeProcess.with(
            policies: try ResourceHostEndToEndTests.policies(),
            extraArguments: ResourceHostEndToEndTests.resourceArguments
        ) { serve in
            let head =
                "\(request) HTTP/1.1\\r\\nHost: \(host)\\r\\nAuthorization: Bearer "
                + UnsignedTokens.graph(tenant: Self.fabrikam)
                + "\\r\\nContent-Type: application/x-www-form-urlencoded\\r\\n\(framing)\\r\\n\\r\\n5\\r\\nhello\\r\\n"
            let output = try await Python.run([Self.rawSession, String(serve.proxyPort), serve.caPath, host, head])
            let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 2)
            #expect(parts.count == 3 && parts[2].hasPrefix("\(status) "), "\(output)")
            #expect((Double(parts.first ?? "") ?? .infinity) < 5, "\(output)")
            try await Self.expectServing(serve)
        }
    }

    /// The same on plain http: the body would be gathered and sent on with a length, still gzipped.
    @Test func aPlainRequestWithATransferCodingBesidesChunkedIs501() async throws {
        try await ServeProcess.with { serve in
            let (elapsed, line) = try await DeadlineTests.raw(
                serve.proxyPort,
                "POST http://example.invalid/ HTTP/1.1\\r\\nHost: example.invalid\\r\\n"
                    + "Transfer-Encoding: gzip, chunked\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n"
            )
            #expect(line == "HTTP/1.1 501 Not Implemented")
            #expect(elapsed < 5, "answered after \(elapsed) s")
            try await Self.expectServing(serve)
        }
    }

    /// A malformed CONNECT head after the CONNECT already ended (a second head, pipelined): closed, still serving.
    @Test func aSecondRequestPipelinedBehindAConnect() async throws {
        try await ServeProcess.with(extraArguments: ["--default-creator-tenant", Self.contoso.description]) { serve in
            let (_, line) = try await DeadlineTests.raw(
                serve.proxyPort,
                "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
                    + "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\n\\r\\n",
                seconds: 3
            )
            #expect(line == "HTTP/1.1 200 OK")
            try await Self.expectServing(serve)
        }
    }

    /// Opens `silent` connections from `source` that send nothing, then one more from `probe` that sends a plain
    /// request; prints how each silent connection was answered at once (its first line, or "open") and the probe's
    /// first line. Every socket times out after a few seconds.
    static let acceptProbe = """
        import socket, sys
        port, silent, source, probe = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
        def connect(address):
            s = socket.socket()
            s.settimeout(3)
            s.bind((address, 0))
            s.connect(("127.0.0.1", port))
            return s
        held, seen = [], []
        for _ in range(silent):
            s = connect(source)
            s.settimeout(0.5)
            try:
                seen.append((s.recv(200).split(b"\\r\\n")[0].decode() or "closed").replace(" ", "_"))
            except socket.timeout:
                seen.append("open")
            held.append(s)
        p = connect(probe)
        p.sendall(b"GET http://127.0.0.1:9/ HTTP/1.1\\r\\nHost: 127.0.0.1:9\\r\\n\\r\\n")
        first = p.recv(200).split(b"\\r\\n")[0].decode()
        print(" ".join(seen) + " | " + first)
        """

    /// Refused clients are judged when they connect: answered 403 at once and never counted, so silent ones
    /// cannot fill `--max-connections` (three were enough to lock out the fourth when they were judged after a head).
    @Test func refusedClientsAreClosedAtAcceptAndHoldNoPlace() async throws {
        try await ServeProcess.with(extraArguments: ["--allow-client", "127.0.0.1/32", "--max-connections", "3"]) {
            serve in
            let output = try await Python.run([
                "-c", Self.acceptProbe, String(serve.proxyPort), "4", "127.0.0.2", "127.0.0.1",
            ])
            let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: " | ")
            #expect(parts.first == Array(repeating: "HTTP/1.1_403_Forbidden", count: 4).joined(separator: " "))
            #expect(parts.last == "HTTP/1.1 403 Forbidden", "the allowed client is served (403: port 9 is refused)")
            let settings = serve.auditObjects().map { $0["setting"] as? String }
            #expect(settings.filter { $0 == "clientPolicy" }.count == 4)
            #expect(settings.contains("destinationPolicy"))
        }
    }

    /// One address holds at most `--max-connections-per-client`; another address is still served.
    @Test func oneAddressCannotTakeEveryPlace() async throws {
        try await ServeProcess.with(extraArguments: ["--max-connections-per-client", "2"]) { serve in
            let output = try await Python.run([
                "-c", Self.acceptProbe, String(serve.proxyPort), "3", "127.0.0.1", "127.0.0.3",
            ])
            let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: " | ")
            #expect(parts.first == "open open HTTP/1.1_503_Service_Unavailable")
            #expect(parts.last == "HTTP/1.1 403 Forbidden", "another address is served (403: port 9 is refused)")
        }
    }

    /// Token requests are a few KiB: a 100 KiB one is refused with 413 and never reaches the STS.
    @Test func aTokenRequestBodyOver64KiBIsRefused() async throws {
        try await ServeProcess.with { serve in
            let token = try await serve.sts.makerToken(tenant: Self.contoso)
            let padding = String(repeating: "a", count: 100 * 1024)
            let response = try await serve.curl(
                serve.makerHeader(token) + [
                    "-d", Self.form + "&client_assertion=\(padding)",
                    "https://login.microsoftonline.com/\(Self.fabrikam)/oauth2/v2.0/token",
                ]
            )
            #expect(response.status == 413)
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.fabrikam.description) == 0)
            try await Self.expectServing(serve)
        }
    }

    /// The admin listener refuses a declared body over its limit, and a route that is not there, at once: the
    /// answer does not wait for a body that may never come, and the connection closes instead of draining it.
    @Test func adminRefusalsDoNotWaitForTheBody() async throws {
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(extraArguments: ["--admin", "127.0.0.1:\(adminPort)"]) { _ in
            let probe = """
                import socket, sys, time
                s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
                start = time.monotonic()
                s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
                answer = s.recv(4096).decode("latin-1")
                print("%.3f %s %s" % (time.monotonic() - start, answer.split("\\r\\n")[0].replace(" ", "_"),
                                      "close" if "connection: close" in answer.lower() else "keep"))
                """
            for (request, status) in [
                (
                    "PUT /api/v1/tenants/x/isolation HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5000000\\r\\n\\r\\n",
                    "413"
                ),
                ("POST /nowhere HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 100\\r\\n\\r\\n", "404"),
            ] {
                let output = try await Python.run(["-c", probe, String(adminPort), request])
                let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
                #expect(parts.count == 3 && parts[1].contains(status) && parts[2] == "close", "\(output)")
                #expect((Double(parts.first ?? "") ?? 9) < 1, "answered without waiting for the body: \(output)")
            }
        }
    }

    /// One address holds at most 16 admin connections: the 17th is closed at once, and a probe from elsewhere is
    /// answered while the 16 are held.
    @Test func oneAddressCannotHoldTheAdminListener() async throws {
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(extraArguments: ["--admin", "127.0.0.1:\(adminPort)"]) { _ in
            let probe = """
                import socket, sys
                port = int(sys.argv[1])
                held = []
                for _ in range(16):
                    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.connect(("127.0.0.1", port)); held.append(s)
                extra = socket.socket(); extra.bind(("127.0.0.1", 0)); extra.connect(("127.0.0.1", port))
                extra.settimeout(3)
                try:
                    closed = extra.recv(10) == b""
                except (ConnectionResetError, socket.timeout) as error:
                    closed = isinstance(error, ConnectionResetError)
                p = socket.socket(); p.settimeout(3); p.bind(("127.0.0.3", 0)); p.connect(("127.0.0.1", port))
                p.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")
                print("closed" if closed else "open", p.recv(200).split(b"\\r\\n")[0].decode().replace(" ", "_"))
                """
            let output = try await Python.run(["-c", probe, String(adminPort)])
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "closed HTTP/1.1_200_OK", "\(output)")
        }
    }

    /// The process is alive and an ordinary token exchange through it is allowed.
    static func expectServing(_ serve: ServeProcess) async throws {
        let token = try await serve.sts.makerToken(tenant: contoso)
        let response = try await serve.curl(
            serve.makerHeader(token) + ["-d", form, "https://login.microsoftonline.com/\(fabrikam)/oauth2/v2.0/token"]
        )
        #expect(response.status == 200, "after the hostile bytes: HTTP \(response.status)")
    }
}
