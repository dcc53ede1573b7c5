import Foundation
import LoopbackSimulation
import MockSTS
import TenantGateApp
import TenantPolicy
import Testing

/// Deadlines and caps a slow or greedy client cannot stretch, through the real `tenantgate serve`: each one a clear
/// answer (408, 503, 504) or a close, within its configured time.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DeadlineTests {
    /// Sends `payload` to the proxy on a raw socket, then reads until the proxy closes or `seconds` pass; prints
    /// what arrived and how long the proxy took to close.
    static let rawClient = """
        import socket, sys, time
        port, payload, seconds = int(sys.argv[1]), sys.argv[2].encode().decode('unicode_escape').encode('latin-1'), float(sys.argv[3])
        s = socket.create_connection(("127.0.0.1", port), timeout=seconds)
        start = time.monotonic()
        s.sendall(payload)
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            data += b"<timeout>"
        print("%.2f %s" % (time.monotonic() - start, data.decode("latin-1").split("\\r\\n")[0]))
        """

    static func raw(
        _ port: Int,
        _ payload: String,
        seconds: Double = 10
    ) async throws -> (elapsed: Double, firstLine: String) {
        let output = try await Python.run(["-c", rawClient, String(port), payload, String(seconds)])
        let parts = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1)
        return (Double(parts.first ?? "") ?? -1, parts.count > 1 ? String(parts[1]) : "")
    }

    @Test func aRequestHeadSentSlowlyGets408() async throws {
        try await ServeProcess.with(extraArguments: ["--request-head-timeout", "1"]) { serve in
            let (elapsed, line) = try await Self.raw(
                serve.proxyPort,
                "GET http://example.invalid/ HTTP/1.1\\r\\nHost: exa"
            )
            #expect(line == "HTTP/1.1 408 Request Timeout")
            #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")
        }
    }

    /// A body the proxy holds whole before the request goes on (here a plain request's) is under the head's
    /// deadline too: left a few bytes short, it held its share of the body memory for as long as the idle timer let
    /// it.
    @Test func aHeldBodyLeftShortGets408() async throws {
        try await ServeProcess.with(extraArguments: ["--request-head-timeout", "1"]) { serve in
            let (elapsed, line) = try await Self.raw(
                serve.proxyPort,
                "POST http://example.invalid/ HTTP/1.1\\r\\nHost: example.invalid\\r\\nContent-Length: 100\\r\\n\\r\\nabc"
            )
            #expect(line == "HTTP/1.1 408 Request Timeout")
            #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")
        }
    }

    @Test func aClientThatNeverSaysHelloIsClosed() async throws {
        try await ServeProcess.with(
            extraArguments: [
                "--tls-handshake-timeout", "1", "--default-creator-tenant", ProxyEndToEndTests.contoso.description,
            ]
        ) { serve in
            let (elapsed, line) = try await Self.raw(
                serve.proxyPort,
                "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: login.microsoftonline.com:443\\r\\n\\r\\n\\x16\\x03\\x01"
            )
            #expect(line == "HTTP/1.1 200 OK")
            #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")
        }
    }

    @Test func beyondTheConnectionCapTheAnswerIs503() async throws {
        try await ServeProcess.with(
            extraArguments: [
                "--max-connections", "1", "--default-creator-tenant", ProxyEndToEndTests.contoso.description,
            ]
        ) { serve in
            // One connection holds the only place: its CONNECT's 200 proves it was admitted (no sleep orders the
            // two); the next is turned away at once, before it sends anything.
            let probe = """
                import socket, sys, time
                port = int(sys.argv[1])
                holder = socket.create_connection(("127.0.0.1", port), timeout=5)
                holder.sendall(b"CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                admitted = holder.recv(200).split(b"\\r\\n")[0].decode()
                start = time.monotonic()
                second = socket.create_connection(("127.0.0.1", port), timeout=5)
                line = second.recv(200).split(b"\\r\\n")[0].decode()
                print("%s|%s|%.2f" % (admitted, line, time.monotonic() - start))
                """
            let parts = try await Python.run(["-c", probe, String(serve.proxyPort)])
                .trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "|")
            #expect(parts.first == "HTTP/1.1 200 OK")
            #expect(parts.dropFirst().first == "HTTP/1.1 503 Service Unavailable")
            #expect((Double(parts.last ?? "") ?? 9) < 2)
        }
    }

    /// Connections the client closed before sending a request give their places back at once, not at the idle
    /// timeout: ten connections opened and closed held every place of their address for 120 s.
    @Test func connectionsClosedBeforeTheirRequestGiveTheirPlaceBack() async throws {
        try await ServeProcess.with(
            extraArguments: [
                "--max-connections-per-client", "4", "--default-creator-tenant", ProxyEndToEndTests.contoso.description,
            ]
        ) { serve in
            let probe = """
                import socket, sys, time
                port = int(sys.argv[1])
                for _ in range(4):
                    socket.create_connection(("127.0.0.1", port), timeout=5).close()
                answers = []
                for _ in range(20):  # at most 2 s
                    time.sleep(0.1)
                    s = socket.create_connection(("127.0.0.1", port), timeout=5)
                    s.sendall(b"CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                    answers.append(s.recv(200).split(b"\\r\\n")[0].decode())
                    s.close()
                    if answers[-1] == "HTTP/1.1 200 OK":
                        break
                print(answers[-1])
                """
            let answer = try await Python.run(["-c", probe, String(serve.proxyPort)])
            #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "HTTP/1.1 200 OK", "\(answer)")
        }
    }

    /// A client that sends its CONNECT and its bytes and then its FIN, all before the tunnel is up (`nc -N`, a
    /// request-and-shutdown client), gets its tunnel, and the FIN reaches the destination after the bytes: it was
    /// closed at once, or the FIN was lost and both waited for the idle timeout.
    @Test func aFINBeforeTheTunnelIsUpFollowsTheBytes() async throws {
        let destination = try ServeProcess.freePort()
        try await ServeProcess.with(
            extraArguments: [
                "--default-creator-tenant", ProxyEndToEndTests.contoso.description, "--allow-destination",
                "127.0.0.0/8", "--allow-connect-port", "\(destination)",
            ]
        ) { serve in
            let probe = """
                import socket, sys, threading
                proxy, port = int(sys.argv[1]), int(sys.argv[2])
                listener = socket.create_server(("127.0.0.1", port))
                def serve():
                    peer, _ = listener.accept()
                    peer.settimeout(10)
                    got = b""
                    while True:  # to the FIN
                        chunk = peer.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                    peer.sendall(b"GOT:" + got)
                    peer.close()
                threading.Thread(target=serve, daemon=True).start()
                client = socket.create_connection(("127.0.0.1", proxy), timeout=10)
                client.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nPING" % port)
                client.shutdown(socket.SHUT_WR)
                answer = b""
                while True:
                    chunk = client.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
                print(answer.split(b"\\r\\n")[0].decode(), answer.endswith(b"GOT:PING"))
                """
            let answer = try await Python.run(["-c", probe, String(serve.proxyPort), String(destination)])
            #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "HTTP/1.1 200 OK True", "\(answer)")
        }
    }

    @Test func aSlowUpstreamGets504AndAnErrorLine() async throws {
        try await ServeProcess.with(extraArguments: ["--upstream-response-timeout", "1"]) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: ProxyEndToEndTests.contoso))
            let response = try await serve.curl(
                maker + [
                    "-d", HostileClientTests.form + "&mock_delay_ms=3000",
                    "https://login.microsoftonline.com/\(ProxyEndToEndTests.fabrikam)/oauth2/v2.0/token",
                ]
            )
            #expect(response.status == 504)
            #expect(!response.body.contains("access_token"))
            #expect(serve.auditObjects().first?["decision"] as? String == "error")
        }
    }

    @Test func anIdleTunnelIsClosed() async throws {
        try await ServeProcess.with(
            extraArguments: [
                "--tunnel-idle-timeout", "1", "--allow-destination", "127.0.0.0/8", "--allow-connect-port", "STS_PORT",
            ]
        ) {
            serve in
            let (elapsed, line) = try await Self.raw(
                serve.proxyPort,
                "CONNECT 127.0.0.1:\(serve.sts.port) HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n",
                seconds: 10
            )
            #expect(line == "HTTP/1.1 200 OK")
            // A port other than 443 is tunnelled at once (no ClientHello awaited), then idles out.
            #expect(elapsed >= 0.9 && elapsed < 5, "closed after \(elapsed) s")
        }
    }
}
