import Foundation
import JWTKit
import LoopbackSimulation
import MockSTS
import TenantGateApp
import TenantPolicy
import TestSupport
import Testing

/// The creator tenant is what the operator granted, narrowed by the maker, never widened (SPEC 4.2), through the
/// real `tenantgate serve` with curl from two loopback addresses: 127.0.0.1 (mapped) and 127.0.0.2 (granted nothing).
///
/// Policies (`policies/`): Contoso isolated, allowing Fabrikam outbound; Northwind not governed.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CreatorTrustTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let fabrikam = ProxyEndToEndTests.fabrikam
    static let northwind = ProxyEndToEndTests.northwind
    static let form = HostileClientTests.form

    /// Runs `body` against `serve` with `creator-by-client-address` set to `map` in a config file.
    static func withMap(
        _ map: String,
        extraArguments: [String] = [],
        _ body: (ServeProcess) async throws -> Void
    ) async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("tenantgate.yaml").path
        try "creator-by-client-address: \(map)\n".write(toFile: config, atomically: true, encoding: .utf8)
        try await ServeProcess.with(extraArguments: ["--config", config] + extraArguments, body)
    }

    static func exchange(
        _ serve: ServeProcess,
        maker tenant: TenantID,
        signingIn signIn: TenantID,
        from source: String = "127.0.0.1"
    ) async throws -> (connect: Int, status: Int) {
        let request =
            serve.makerHeader(try await serve.sts.makerToken(tenant: tenant)) + [
                "--interface", source, "-d", form, "https://login.microsoftonline.com/\(signIn)/oauth2/v2.0/token",
            ]
        return (try await serve.connectStatus(request), try await serve.curl(request).status)
    }

    /// The insider of issue 30: the connector host is mapped to Contoso, whose isolation refuses Northwind. A
    /// genuine Northwind maker token used to make the exchange "within Northwind" and get Northwind's token.
    @Test func aMappedHostCannotChooseAnotherCreatorWithAGenuineToken() async throws {
        try await Self.withMap(#"{"127.0.0.1/32": "\#(Self.contoso)"}"#) { serve in
            #expect(
                try await serve.curl(["-d", Self.form, Self.url(Self.northwind)]).status == 403,
                "no token: Contoso"
            )
            let (connect, _) = try await Self.exchange(serve, maker: Self.northwind, signingIn: Self.northwind)
            #expect(connect == 407)
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0, "nothing upstream")
            let refusal = serve.auditObjects().first { $0["setting"] as? String == "creatorToken" }
            #expect(refusal?["decision"] as? String == "error")
            #expect((refusal?["reason"] as? String)?.contains("not one this client may act for") == true)

            // A token of the granted tenant is the maker's own: accepted, and judged as Contoso's.
            #expect(try await Self.exchange(serve, maker: Self.contoso, signingIn: Self.fabrikam).status == 200)
        }
    }

    /// A range may grant several tenants: a maker of any of them is believed, one of another is not.
    @Test func aRangeMayGrantSeveralTenants() async throws {
        try await Self.withMap(#"{"127.0.0.1/32": ["\#(Self.contoso)", "\#(Self.northwind)"]}"#) { serve async throws in
            #expect(try await Self.exchange(serve, maker: Self.northwind, signingIn: Self.northwind).status == 200)
            #expect(try await Self.exchange(serve, maker: Self.fabrikam, signingIn: Self.fabrikam).connect == 407)
        }
    }

    /// A host granted nothing (shared by many tenants' makers) takes any verified token, as before; with
    /// `--ungranted-makers governed`, only a governed tenant's.
    @Test func aSharedHostTakesAnyVerifiedTokenUnlessRestricted() async throws {
        try await Self.withMap(#"{"127.0.0.1/32": "\#(Self.contoso)"}"#) { serve in
            let shared = try await Self.exchange(
                serve,
                maker: Self.northwind,
                signingIn: Self.northwind,
                from: "127.0.0.2"
            )
            #expect(shared.status == 200)
        }
        try await Self.withMap(
            #"{"127.0.0.1/32": "\#(Self.contoso)"}"#,
            extraArguments: ["--ungranted-makers", "governed"]
        ) { serve in
            let northwind = try await Self.exchange(
                serve,
                maker: Self.northwind,
                signingIn: Self.northwind,
                from: "127.0.0.2"
            )
            #expect(northwind.connect == 407)
            let contoso = try await Self.exchange(
                serve,
                maker: Self.contoso,
                signingIn: Self.fabrikam,
                from: "127.0.0.2"
            )
            #expect(contoso.status == 200)
        }
    }

    /// Under the default creator tenant alone, a token must name that tenant.
    @Test func theDefaultCreatorGrantsOnlyItself() async throws {
        try await ServeProcess.with(extraArguments: ["--default-creator-tenant", Self.contoso.description]) {
            serve async throws in
            #expect(try await Self.exchange(serve, maker: Self.northwind, signingIn: Self.northwind).connect == 407)
            #expect(try await Self.exchange(serve, maker: Self.contoso, signingIn: Self.fabrikam).status == 200)
        }
    }

    /// Maker tokens never cross the network in clear: with `--listen-tls-cert`/`--listen-tls-key` the listener is an
    /// HTTPS proxy (curl's `--proxy https://`), and a client speaking plain HTTP to it gets no answer.
    @Test func anHTTPSProxyListenerCarriesTheMakerTokenInTLS() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try await Self.listenerCertificate(in: directory)
        try await ServeProcess.with(extraArguments: ["--listen-tls-cert", certificate, "--listen-tls-key", key]) {
            serve in
            let token = try await serve.sts.makerToken(tenant: Self.contoso)
            let https = try await Curl.run([
                "-s", "-m", "20", "-w", "\n%{http_code}", "--proxy", "https://127.0.0.1:\(serve.proxyPort)",
                "--proxy-cacert", certificate, "--cacert", serve.caPath, "--proxy-header",
                "Proxy-Authorization: Bearer \(token)", "-d", Self.form, Self.url(Self.fabrikam),
            ])
            #expect(https.hasSuffix("\n200"), "\(https.suffix(200))")
            #expect(serve.auditObjects().last?["creator_tenant"] as? String == Self.contoso.description)
            let plain = try await Curl.run([
                "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy", serve.proxy, "--cacert",
                serve.caPath, "-d", Self.form, Self.url(Self.fabrikam),
            ])
            #expect(plain != "200", "a plain-HTTP client of an HTTPS proxy gets no CONNECT through: \(plain)")
        }
    }

    /// The same through MSAL Python with `https://` as its proxy (requests and urllib3 speak TLS to the proxy, then
    /// TLS to the STS inside it): the blocked tenant's token never arrives, the allowed one does.
    @Test func msalPythonThroughTheHTTPSProxy() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (certificate, key) = try await Self.listenerCertificate(in: directory)
        let script = "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/msal_client_credentials.py"
        try await ServeProcess.with(
            extraArguments: [
                "--listen-tls-cert", certificate, "--listen-tls-key", key, "--default-creator-tenant",
                Self.contoso.description,
            ]
        ) { serve in
            // One bundle for both TLS sessions: the proxy's own certificate and TenantGate's interception CA.
            let bundle = directory.appendingPathComponent("bundle.pem").path
            let pems =
                try String(contentsOfFile: certificate, encoding: .utf8)
                + String(contentsOfFile: serve.caPath, encoding: .utf8)
            try pems.write(toFile: bundle, atomically: true, encoding: .utf8)
            func msal(_ tenant: TenantID) async throws -> [String: Any] {
                let output = try await Python.run([
                    script, "https://127.0.0.1:\(serve.proxyPort)", bundle,
                    "https://login.microsoftonline.com/\(tenant)",
                ])
                return ProxyEndToEndTests.auditObject(output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let blocked = try await msal(Self.northwind)
            #expect(blocked["has_access_token"] as? Bool == false, "\(blocked)")
            let allowed = try await msal(Self.fabrikam)
            #expect(allowed["has_access_token"] as? Bool == true, "\(allowed)")
        }
    }

    /// A self-signed certificate for the proxy listener on 127.0.0.1, and its key.
    static func listenerCertificate(in directory: URL) async throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("proxy.pem").path
        let key = directory.appendingPathComponent("proxy.key").path
        let made = try await ChildProcess.run(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                "-out", certificate, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            ]
        )
        #expect(made.status == 0, "\(made.errors)")
        return (certificate, key)
    }

    /// A key its key set gives to one tenant (Entra's per-key `issuer`, as on the personal-account key of the common
    /// document or an application's own signing key) signs that tenant's maker tokens, no other's. A Fabrikam token
    /// signed with Contoso's key made Fabrikam the creator of a host granted nothing (review 36 F1).
    @Test func aKeyOfOneTenantSignsNoOtherTenantsMakerTokens() async throws {
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = ES256PrivateKey()
        let coordinates = try #require(key.parameters)
        let jwks = directory.appendingPathComponent("jwks.json").path
        let document =
            #"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","kid":"contoso-only","x":"\#(coordinates.x)","#
            + #""y":"\#(coordinates.y)","issuer":"https://login.microsoftonline.com/\#(Self.contoso)/v2.0"}]}"#
        try document.write(toFile: jwks, atomically: true, encoding: .utf8)
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "contoso-only")
        func maker(_ tenant: TenantID) async throws -> [String] {
            let token = try await signer.sign(MockSTS.makerClaims(tenant: tenant), kid: "contoso-only")
            return ["--proxy-header", "Proxy-Authorization: Bearer \(token)"]
        }
        try await ServeProcess.with(trustMockKeys: false, extraArguments: ["--creator-jwks", jwks]) { serve in
            let own = try await maker(Self.contoso) + ["-d", Self.form, Self.url(Self.fabrikam)]
            #expect(try await serve.curl(own).status == 200, "Contoso's key signs Contoso's makers")
            let other = try await maker(Self.fabrikam) + ["-d", Self.form, Self.url(Self.fabrikam)]
            #expect(try await serve.connectStatus(other) == 407)
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.fabrikam.description) == 1, "only Contoso's")
            let refusal = serve.auditObjects().first { $0["setting"] as? String == "creatorToken" }
            #expect((refusal?["reason"] as? String)?.contains("gives to another issuer") == true)
        }
    }

    /// A key set served with a certificate the proxy does not trust (here the mock's, whose CA only the upstream
    /// side trusts): AsyncHTTPClient retries the handshake until its deadline, and the fetch's own deadline came
    /// first and said "no whole answer within 10 s" (review 38). The log now names the certificate.
    @Test func aKeySetBehindAnUntrustedCertificateSaysSo() async throws {
        try await ServeProcess.with(
            trustMockKeys: false,
            extraArguments: ["--creator-jwks-url", "https://127.0.0.1:STS_PORT/common/discovery/v2.0/keys"]
        ) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            #expect(try await serve.connectStatus(maker + ["-d", Self.form, Self.url(Self.fabrikam)]) == 407)
            #expect(serve.log().contains("CERTIFICATE_VERIFY_FAILED"), "\(serve.log().suffix(800))")
        }
    }

    static func url(_ tenant: TenantID) -> String { "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0/token" }
}
