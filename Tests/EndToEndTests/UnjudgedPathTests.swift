import Foundation
import MockSTS
import TenantPolicy
import TestSupport
import Testing

/// No path to Entra's token service goes unjudged (issue 30), through the real `tenantgate serve`: a session that
/// could land on Entra without naming a host TenantGate intercepts is refused after the CONNECT, before a byte of
/// it goes upstream, with an audit line; the same hello to an ordinary name is a tunnel.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct UnjudgedPathTests {
    static let probe = "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/hello_probe.py"
    /// A name that is not Entra's, pointed at the mock's TLS port (standing in for a DNS answer).
    static let alias = "entra-alias.invalid"

    struct Case: CustomTestStringConvertible, Sendable {
        let target: String
        let hello: String
        /// Extra `serve` arguments; `STS_PORT` stands for the mock's TLS port.
        var arguments: [String] = []
        /// A phrase of the refusal's audit reason; nil: tunnelled, the far side answers.
        let refusal: String?
        var testDescription: String { "\(target) \(hello) \(arguments.joined(separator: " "))" }
    }

    static let aliasToMock = [
        "--upstream-override", "\(alias):STS_PORT=127.0.0.1:STS_PORT", "--allow-destination", "127.0.0.0/8",
        "--allow-connect-port", "STS_PORT",
    ]

    static let cases: [Case] = [
        Case(target: "20.190.160.1:443", hello: "nosni", refusal: "names no server (SNI)"),
        Case(target: "20.190.160.1:443", hello: "sni:example.org", refusal: "names example.org, which TenantGate"),
        Case(target: "20.190.160.1:443", hello: "ech:public.example", refusal: "encrypted (ECH, public name"),
        // A hello TenantGate does not read as TLS (SSL 2.0's format, which servers may still take) is no way past.
        Case(target: "20.190.160.1:443", hello: "sslv2", refusal: "did not start with a TLS ClientHello"),
        // The name is pointed at the mock (an operator's override): no name lookup, which a loaded CI resolver made slow.
        Case(target: "login.microsoftonline.com:443", hello: "ech:public.example", refusal: "encrypted (ECH"),
        // A name that lands on an address of Entra's (here by the operator's --entra-range).
        Case(
            target: "\(alias):STS_PORT",
            hello: "sni:example.org",
            arguments: aliasToMock + ["--entra-range", "127.0.0.0/8"],
            refusal: "resolves to 127.0.0.1, an address of Entra's token service"
        ),
        Case(
            target: "\(alias):STS_PORT",
            hello: "nosni",
            arguments: aliasToMock + ["--entra-range", "127.0.0.0/8"],
            refusal: "names no server (SNI): only a session naming an intercepted host"
        ),
        Case(
            target: "\(alias):STS_PORT",
            hello: "ech:public.example",
            arguments: aliasToMock + ["--entra-range", "127.0.0.0/8"],
            refusal: "encrypted (ECH, public name public.example)"
        ),
        Case(
            target: "\(alias):STS_PORT",
            hello: "sslv2",
            arguments: aliasToMock + ["--entra-range", "127.0.0.0/8"],
            refusal: "resolves to 127.0.0.1, an address of Entra's token service, and the client did not start"
        ),
        // The same name and hello, its address not Entra's: a tunnel, and the mock's TLS answers through it.
        Case(target: "\(alias):STS_PORT", hello: "sni:example.org", arguments: aliasToMock, refusal: nil),
    ]

    /// Chromium sends a GREASE Encrypted Client Hello (it has no ECH configuration behind a proxy) beside the real
    /// name: the session is intercepted as that name, not refused as ECH, and the page loads through the proxy.
    @Test func aBrowserSendingGreaseECHIsInterceptedAsItsPublicName() async throws {
        try await ServeProcess.with(
            extraArguments: ["--default-creator-tenant", ProxyEndToEndTests.contoso.description]
        ) { serve in
            let spki = try await ChildProcess.run(
                "/bin/sh",
                [
                    "-c",
                    "openssl x509 -in '\(serve.caPath)' -pubkey -noout | openssl pkey -pubin -outform der"
                        + " | openssl dgst -sha256 -binary | base64",
                ]
            ).output.trimmingCharacters(in: .whitespacesAndNewlines)
            let profile = serve.directory.appendingPathComponent("chromium").path
            let page = try await ChildProcess.run(
                "/usr/bin/chromium",
                [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--user-data-dir=\(profile)", "--proxy-server=\(serve.proxy)",
                    "--ignore-certificate-errors-spki-list=\(spki)", "--virtual-time-budget=5000", "--dump-dom",
                    "https://login.microsoftonline.com/\(ProxyEndToEndTests.contoso)/v2.0/.well-known/openid-configuration",
                ],
                deadlineSeconds: 90
            )
            #expect(page.output.contains("token_endpoint"), "\(page.output.prefix(400)) \(page.errors.suffix(800))")
            // Chromium's own background sessions (update checks) are refused for want of DNS here: not this one.
            let refusedHere = serve.auditObjects().filter {
                $0["setting"] as? String == "tlsServerName" && $0["host"] as? String == "login.microsoftonline.com"
            }
            #expect(refusedHere.isEmpty, "\(refusedHere)")
        }
    }

    @Test(arguments: cases)
    func aSessionThatCouldReachEntraUnjudgedIsRefused(_ scenario: Case) async throws {
        try await ServeProcess.with(
            extraArguments: ["--default-creator-tenant", ProxyEndToEndTests.contoso.description] + scenario.arguments
        ) { serve in
            let target = scenario.target.replacingOccurrences(of: "STS_PORT", with: String(serve.sts.port))
            let output = try await Python.run([Self.probe, String(serve.proxyPort), target, scenario.hello])
            let outcome = output.trimmingCharacters(in: .whitespacesAndNewlines)
            let line = serve.auditObjects().first
            guard let refusal = scenario.refusal else {
                #expect(outcome == "HTTP/1.1_200_OK answered", "\(output)")
                #expect(line == nil, "a tunnel writes no refusal")
                return
            }
            #expect(outcome == "HTTP/1.1_200_OK closed", "\(output)")
            #expect(line?["setting"] as? String == "tlsServerName")
            #expect((line?["reason"] as? String)?.contains(refusal) == true, "\(line ?? [:])")
            #expect(serve.sts.tokenRequestCount(tenantSegment: ProxyEndToEndTests.northwind.description) == 0)
        }
    }
}
