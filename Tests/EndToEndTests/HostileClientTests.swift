import Foundation
import JWTKit
import LoopbackSimulation
import MockSTS
import TenantGateApp
import TenantPolicy
import TestSupport
import Testing

/// Each way around the enforcement found when TenantGate was first tried as an attacker would, and variants, tried
/// through the real `tenantgate serve` with curl, openssl and MSAL Python: no token of a blocked tenant reaches the
/// client, and an audit line says why.
///
/// Policies (`policies/`): Contoso isolated, allowing Fabrikam outbound and Adatum both ways; Adatum isolated with
/// no rules. Contoso → Northwind is blocked outbound; Fabrikam → Contoso (or Adatum) blocked inbound.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct HostileClientTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let fabrikam = ProxyEndToEndTests.fabrikam
    static let northwind = ProxyEndToEndTests.northwind
    static let form =
        "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=s3cr3t-value"

    /// No token of any kind in what the client received.
    static func carriesNoToken(_ body: String) -> Bool {
        !body.contains("access_token\":\"ey") && !body.contains("id_token") && !body.contains("refresh_token\":")
    }

    // MARK: - Creator identity is proven

    enum ForgedMaker: String, CaseIterable {
        case unsigned, otherKey, wrongIssuer, wrongAudience, expired, algNone, unknownKeyID, hmacWithPublicKey
    }

    /// A maker token that does not verify never chooses the creator: 407 on the CONNECT, an audit line, and no
    /// fallback to the default creator tenant even when one is configured.
    @Test(arguments: ForgedMaker.allCases)
    func forgedMakerTokensAreRefused(_ forgery: ForgedMaker) async throws {
        try await ServeProcess.with(extraArguments: ["--default-creator-tenant", Self.contoso.description]) { serve in
            let token = try await Self.forge(forgery, tenant: Self.northwind, sts: serve.sts)
            // Naming the sign-in tenant as creator would make the exchange "same tenant" if the token were believed.
            let request =
                serve.makerHeader(token) + [
                    "-d", Self.form, "https://login.microsoftonline.com/\(Self.northwind)/oauth2/v2.0/token",
                ]
            // 407 to the CONNECT itself: nothing was tunnelled, so no token can have reached the client.
            let connect = try await serve.connectStatus(request)
            #expect(connect == 407, "\(forgery): CONNECT answered \(connect)")
            let lines = serve.auditObjects()
            #expect(lines.count == 1)
            #expect(lines.first?["decision"] as? String == "error")
            #expect(lines.first?["setting"] as? String == "creatorToken")
            let reason = lines.first?["reason"] as? String ?? ""
            #expect(reason.contains("maker token is not accepted"))
            #expect(reason.range(of: token) == nil, "the token must never be logged")
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)
        }
    }

    /// On a plain `http://` request too (SPEC 4.1; review 53 F3: it went on to the origin, unread and unaudited): a
    /// forged maker token gets 407 and a `creatorToken` line; a verified one goes on, without the header.
    @Test func aPlainRequestsForgedMakerTokenIsRefused() async throws {
        try await ServeProcess.with(
            plainHTTP: true,
            extraArguments: ["--allow-destination", "127.0.0.0/8", "--allow-http-port", "STS_PLAIN_PORT"]
        ) { serve in
            let url = "http://localhost:\(serve.sts.plainPort ?? 0)/organizations/v2.0/.well-known/openid-configuration"
            let forged = try await Self.forge(.otherKey, tenant: Self.northwind, sts: serve.sts)
            let refused = try await serve.curl(serve.makerHeader(forged) + [url])
            #expect(refused.status == 407, "\(refused)")
            #expect(refused.body.contains("creator_token_invalid"), "\(refused.body)")
            let lines = serve.auditObjects()
            #expect(lines.map { $0["setting"] as? String } == ["creatorToken"], "\(lines)")
            #expect(lines.first?["decision"] as? String == "error")
            #expect(lines.first?["host"] as? String == "localhost")
            let genuine = try await serve.curl(
                serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso)) + [url]
            )
            #expect(genuine.status == 200, "\(genuine)")
        }
    }

    /// The scheme in any letter case is the same credential (RFC 7235); a token far larger than Entra's is refused
    /// before decoding, with no fallback. (No creator is granted here, so the token alone names Contoso.)
    @Test func makerTokenSpellingAndSize() async throws {
        try await ServeProcess.with { serve in
            let token = try await serve.sts.makerToken(tenant: Self.contoso)
            let url = "https://login.microsoftonline.com/\(Self.fabrikam)/oauth2/v2.0/token"
            let lowercase = try await serve.curl([
                "--proxy-header", "Proxy-Authorization: bEaReR \(token)", "-d", Self.form, url,
            ])
            #expect(lowercase.status == 200)
            let huge = String(repeating: "A", count: 20_000)
            let oversized = serve.makerHeader("\(huge).\(huge).\(huge)") + ["-d", Self.form, url]
            #expect(try await serve.connectStatus(oversized) == 407)
            let lines = serve.auditObjects()
            #expect(lines.first?["creator_tenant"] as? String == Self.contoso.description)
            #expect(lines.last?["setting"] as? String == "creatorToken")
        }
    }

    /// A CONNECT to an STS that then speaks plain HTTP instead of TLS is refused, never tunnelled.
    @Test func plainBytesInsideAnSTSTunnelAreRefused() async throws {
        try await ServeProcess.with(extraArguments: ["--default-creator-tenant", Self.contoso.description]) { serve in
            let (_, line) = try await DeadlineTests.raw(
                serve.proxyPort,
                "CONNECT login.microsoftonline.com:443 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
                    + "POST /\(Self.northwind)/oauth2/v2.0/token HTTP/1.1\\r\\nHost: login.microsoftonline.com\\r\\n\\r\\n"
            )
            #expect(line == "HTTP/1.1 200 OK")
            #expect(serve.auditObjects().first?["setting"] as? String == "tlsServerName")
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)
        }
    }

    @Test func aVerifiedMakerTokenNamesTheCreator() async throws {
        try await ServeProcess.with { serve in
            let token = try await serve.sts.makerToken(tenant: Self.contoso)
            let blocked = try await serve.curl(
                serve.makerHeader(token) + [
                    "-d", Self.form, "https://login.microsoftonline.com/\(Self.northwind)/oauth2/v2.0/token",
                ]
            )
            #expect(blocked.status == 403)
            let allowed = try await serve.curl(
                serve.makerHeader(token) + [
                    "-d", Self.form, "https://login.microsoftonline.com/\(Self.fabrikam)/oauth2/v2.0/token",
                ]
            )
            #expect(allowed.status == 200)
            #expect(
                serve.auditObjects().map { $0["creator_tenant"] as? String } == [
                    Self.contoso.description, Self.contoso.description,
                ]
            )
        }
    }

    /// Keys that cannot be fetched: never allow. A token is refused with 407 and the reason names the keys.
    @Test func unreachableKeysRefuseEveryMakerToken() async throws {
        try await ServeProcess.with(
            trustMockKeys: false,
            extraArguments: ["--creator-jwks-url", "http://127.0.0.1:9/keys"]
        ) { serve in
            let token = try await serve.sts.makerToken(tenant: Self.contoso)
            let request =
                serve.makerHeader(token) + [
                    "-d", Self.form, "https://login.microsoftonline.com/\(Self.contoso)/oauth2/v2.0/token",
                ]
            #expect(try await serve.connectStatus(request) == 407)
            #expect(
                (serve.auditObjects().first?["reason"] as? String)?.contains("signing keys could not be loaded") == true
            )
        }
    }

    /// The key set is what its own URL answers: a redirect (to plain http, to another host) is not followed, so
    /// whoever answers with one cannot choose which makers' tokens are valid. The same keys at the URL itself work.
    @Test func aRedirectedKeySetIsNotFollowed() async throws {
        let port = try ServeProcess.freePort()
        let directory = try ServeBinaryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let keysPath = directory.appendingPathComponent("keys.json").path
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = [
            "python3", "-c",
            """
            import http.server, sys
            port, keys = int(sys.argv[1]), sys.argv[2]
            class Handler(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    if self.path == "/redirect":
                        self.send_response(302)
                        self.send_header("Location", "http://127.0.0.1:%d/keys" % port)
                        self.end_headers()
                        return
                    body = open(keys, "rb").read()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *args):
                    pass
            http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
            """,
            String(port), keysPath,
        ]
        try server.run()
        // The test process ignores SIGTERM (ServiceLifecycle handles it), and its children inherit that.
        defer {
            kill(server.processIdentifier, SIGKILL)
            server.waitUntilExit()
        }
        // Listening before the proxy asks it for keys: a whole suite on 2 cores starts Python slowly.
        for _ in 0..<300 where !LoopbackDaemon.isListening(port) { try await Task.sleep(for: .milliseconds(50)) }
        for path in ["/keys", "/redirect"] {
            try await ServeProcess.with(
                trustMockKeys: false,
                extraArguments: ["--creator-jwks-url", "http://127.0.0.1:\(port)\(path)"]
            ) { serve in
                try serve.sts.jwksJSON.write(toFile: keysPath, atomically: true, encoding: .utf8)
                let request =
                    serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso)) + [
                        "-d", Self.form, "https://login.microsoftonline.com/\(Self.fabrikam)/oauth2/v2.0/token",
                    ]
                let expected = path == "/keys" ? 200 : 407
                #expect(try await serve.connectStatus(request) == expected, "keys at \(path)")
            }
        }
    }

    static func forge(_ forgery: ForgedMaker, tenant: TenantID, sts: MockSTS) async throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        var claims = MockTokenClaims(
            tid: tenant.description,
            iss: "https://login.microsoftonline.com/\(tenant)/v2.0",
            oid: UUID().uuidString,
            aud: "https://service.powerapps.com/",
            clientID: "a8f7a65c-f5ba-4859-b2d6-df772c264e9d",
            version: "2.0",
            now: now
        )
        func encoded(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let payload = String(decoding: try JSONEncoder().encode(claims), as: UTF8.self)
        switch forgery {
        case .unsigned:
            return "\(encoded(#"{"alg":"RS256","kid":"mock-sts-key","typ":"JWT"}"#)).\(encoded(payload))."
        case .algNone:
            return "\(encoded(#"{"alg":"none","kid":"mock-sts-key","typ":"JWT"}"#)).\(encoded(payload))."
        case .otherKey:
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: ES256PrivateKey(), kid: "mock-sts-key")
            return try await keys.sign(claims, kid: "mock-sts-key")
        case .unknownKeyID:
            let keys = JWTKeyCollection()
            await keys.add(ecdsa: ES256PrivateKey(), kid: "not-published")
            return try await keys.sign(claims, kid: "not-published")
        case .hmacWithPublicKey:
            // HMAC keyed with the published public key: refused because the key is pinned to ES256.
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: sts.jwksJSON), digestAlgorithm: .sha256, kid: "mock-sts-key")
            return try await keys.sign(claims, kid: "mock-sts-key")
        case .wrongIssuer:
            claims.iss = "https://login.microsoftonline.com/\(ProxyEndToEndTests.adatum)/v2.0"
        case .wrongAudience:
            claims.aud = "api://somebody-else"
        case .expired:
            claims.exp = now - 3600
            claims.nbf = now - 7200
        }
        return try await sts.mintToken(claims)
    }

    // MARK: - No token reaches a client unjudged

    /// `common` names no tenant, so only the answer shows it: compressed, the answer is still read (or refused).
    @Test(arguments: ["gzip", "deflate"])
    func compressedTokenAnswersAreDecodedAndJudged(_ encoding: String) async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let url = "https://login.microsoftonline.com/common/oauth2/v2.0/token?mock_encoding=\(encoding)"
            let blocked = try await serve.curl(
                maker + ["--compressed", "-d", Self.form + "&mock_tid=\(Self.northwind)", url]
            )
            #expect(blocked.status == 403)
            #expect(Self.carriesNoToken(blocked.body))
            let allowed = try await serve.curl(
                maker + ["--compressed", "-d", Self.form + "&mock_tid=\(Self.fabrikam)", url]
            )
            #expect(allowed.status == 200)
            #expect(allowed.body.contains("access_token"))
            #expect(serve.auditObjects().map { $0["decision"] as? String } == ["blocked", "allowed"])
            #expect(serve.auditObjects().first?["sign_in_tenant"] as? String == Self.northwind.description)
        }
    }

    /// MSAL Python, unmodified, asks for gzip. The authority is a domain the policies do not know, so only the
    /// answer shows the tenant.
    @Test func msalPythonAskingForGzipGetsNoBlockedToken() async throws {
        let script = "\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/msal_client_credentials.py"
        let domains = ["northwind.example": Self.northwind, "fabrikam.example": Self.fabrikam]
        try await ServeProcess.with(
            stsOptions: MockSTSOptions(domains: domains),
            extraArguments: ["--default-creator-tenant", Self.contoso.description]
        ) { serve in
            func msal(_ domain: String) async throws -> [String: Any] {
                let output = try await Python.run([
                    script, serve.proxy, serve.caPath, "https://login.microsoftonline.com/\(domain)",
                ])
                return ProxyEndToEndTests.auditObject(output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let blocked = try await msal("northwind.example")
            #expect(blocked["has_access_token"] as? Bool == false, "\(blocked)")
            #expect(blocked["error"] as? String == "access_denied")
            #expect(blocked["error_codes"] as? [Int] == [500212])
            let allowed = try await msal("fabrikam.example")
            #expect(allowed["has_access_token"] as? Bool == true, "\(allowed)")
            let tokenLines = serve.auditObjects().filter { ($0["path"] as? String)?.hasSuffix("/token") == true }
            #expect(tokenLines.map { $0["decision"] as? String } == ["blocked", "allowed"])
            #expect(tokenLines.first?["sign_in_tenant"] as? String == Self.northwind.description)
        }
    }

    /// An encoding the proxy cannot read, a decompression bomb, a 2xx answer that is not JSON, and a 400 whose body
    /// names a token twice (MSAL reads every answer below 500 as a token response): each refused.
    @Test(arguments: [
        ("?mock_encoding=br", "", 403, "blocked"),
        ("?mock_encoding=gzip&mock_bomb=1", "", 502, "error"),
        ("", "&mock_token=html", 403, "blocked"),
        ("", "&mock_token=duplicate&mock_answer_status=400", 403, "blocked"),
    ])
    func unreadableAnswersFailClosed(query: String, extraForm: String, status: Int, decision: String) async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.fabrikam))
            // Fabrikam has no isolation of its own, but Adatum's would refuse it inbound: the answer matters.
            let response = try await serve.curl(
                maker + [
                    "-d", Self.form + "&mock_tid=\(Self.fabrikam)" + extraForm,
                    "https://login.microsoftonline.com/common/oauth2/v2.0/token\(query)",
                ]
            )
            #expect(
                response.status == status,
                "\(query)\(extraForm): HTTP \(response.status) \(response.body.prefix(300))"
            )
            #expect(Self.carriesNoToken(response.body))
            #expect(serve.auditObjects().map { $0["decision"] as? String } == [decision])
        }
    }

    /// A client that waits for `100 Continue` before it sends its token request's body (.NET Framework's default, curl
    /// for large bodies) gets it from the proxy, which reads the body to judge: else each exchange waited the client's
    /// own timeout (here 15 s; 350 ms for .NET Framework, 1 s for curl).
    @Test func aTokenRequestThatExpectsContinueIsAnsweredAtOnce() async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + [
                    "-D", "-", "-H", "Expect: 100-continue", "--expect100-timeout", "15", "-d", Self.form,
                    "https://login.microsoftonline.com/\(Self.fabrikam)/oauth2/v2.0/token",
                ]
            )
            #expect(response.status == 200, "HTTP \(response.status) \(response.body.prefix(300))")
            #expect(response.body.contains("HTTP/1.1 100 Continue"), "\(response.body.prefix(200))")
            #expect(serve.auditObjects().map { $0["decision"] as? String } == ["allowed"])
        }
    }

    /// An error page that names no token (a front door's 503 in HTML) goes to the client as it came, however strict
    /// the policy: judged, it would read as a tenant isolation refusal and hide the outage from the client's retries.
    @Test func anErrorPageThatNamesNoTokenPassesAsItCame() async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.fabrikam))
            let response = try await serve.curl(
                maker + [
                    "-d", Self.form + "&mock_tid=\(Self.fabrikam)&mock_token=html&mock_answer_status=503",
                    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                ]
            )
            #expect(response.status == 503, "HTTP \(response.status) \(response.body.prefix(300))")
            #expect(response.body.contains("signed in"))
            #expect(serve.auditObjects().map { $0["decision"] as? String } == ["allowed"])
        }
    }

    /// Tokens handed over by the authorize endpoint (implicit flow): a form_post page and a redirect fragment.
    @Test(arguments: ["form_post", "fragment"])
    func tokensOutsideTheTokenEndpointAreJudged(_ mode: String) async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let path = "/\(Self.northwind)/oauth2/v2.0/authorize?response_type=id_token&response_mode=\(mode)"
            let blocked = try await serve.curl(maker + ["-D", "-", "https://login.microsoftonline.com\(path)"])
            #expect(blocked.status == 403)
            #expect(!blocked.body.contains("id_token="), "the token must not reach the client")
            #expect(!blocked.body.contains("name=\"id_token\""))
            let fine = "/\(Self.fabrikam)/oauth2/v2.0/authorize?response_type=id_token&response_mode=\(mode)"
            let allowed = try await serve.curl(maker + ["-D", "-", "https://login.microsoftonline.com\(fine)"])
            #expect(allowed.status == (mode == "form_post" ? 200 : 302))
            let lines = serve.auditObjects()
            #expect(lines.map { $0["decision"] as? String } == ["blocked", "allowed"])
            #expect(lines.first?["path"] as? String == "/\(Self.northwind)/oauth2/v2.0/authorize")
        }
    }

    /// A decoy in a registered redirect URI's query: Entra appends the real tokens as a fragment, and the first
    /// `id_token` of the `Location` was Contoso's decoy, so Northwind's token reached the client audited as allowed.
    @Test func aDecoyTokenInTheRedirectURIDoesNotStandForTheAnswer() async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let decoy = UnsignedTokens.graph(tenant: Self.contoso)
            let redirect = "https%3A%2F%2Fapp.example%2Fcb%3Fid_token%3D\(decoy)"
            let path =
                "/common/oauth2/v2.0/authorize?response_type=id_token&client_id=x&mock_tid=\(Self.northwind)"
                + "&redirect_uri=\(redirect)"
            let answer = try await serve.curl(maker + ["-D", "-", "https://login.microsoftonline.com\(path)"])
            #expect(answer.status == 403, "\(answer.body)")
            #expect(!answer.body.contains("#id_token="), "the token must not reach the client")
            let lines = serve.auditObjects()
            #expect(lines.map { $0["decision"] as? String } == ["blocked"], "\(lines)")
            #expect((lines.first?["reason"] as? String ?? "").contains("id_token more than once"), "\(lines)")
        }
    }

    /// SAML-P, WS-Federation and WS-Trust hand over SAML assertions, not JWTs: judged by the tenant their issuer
    /// names, and a ticket that names none is a token whose tenant cannot be read (fail closed).
    @Test func samlAndWSTrustTokensAreJudgedByTheirIssuer() async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let base = "https://login.microsoftonline.com"
            let cases: [(request: [String], status: Int, carrier: String)] = [
                (["\(base)/\(Self.northwind)/saml2"], 403, "SAMLResponse"),
                (["\(base)/\(Self.fabrikam)/saml2"], 200, "SAMLResponse"),
                // The path names Fabrikam, the assertion Northwind: they disagree.
                (["\(base)/\(Self.fabrikam)/wsfed?mock_tid=\(Self.northwind)"], 403, "wresult"),
                (["\(base)/\(Self.fabrikam)/wsfed"], 200, "wresult"),
                (["-H", "Content-Type: application/soap+xml", "-d", "<rst/>", "\(base)/extSTS.srf"], 403, "t=EwB"),
            ]
            for (request, status, carrier) in cases {
                let answer = try await serve.curl(maker + request)
                #expect(answer.status == status, "\(request): \(answer.body)")
                #expect(answer.body.contains(carrier) == (status == 200), "\(request): \(answer.body)")
            }
            let lines = serve.auditObjects()
            #expect(
                lines.map { $0["decision"] as? String } == ["blocked", "allowed", "blocked", "allowed", "blocked"],
                "\(lines)"
            )
            // Indexed only when all five are there: a trap here would end the test process and orphan the proxy.
            try #require(lines.count == 5)
            #expect(lines[1]["sign_in_tenant"] as? String == Self.fabrikam.description)
            #expect(lines[2]["sign_in_tenant"] as? String == Self.northwind.description)
            #expect((lines[4]["reason"] as? String ?? "").contains("names no issuer"), "\(lines[4])")
        }
    }

    @Test func tokenFlowsCanBeRefusedOutright() async throws {
        try await ServeProcess.with(extraArguments: ["--token-flows", "refuse"]) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let path = "/\(Self.fabrikam)/oauth2/v2.0/authorize?response_type=id_token&response_mode=form_post"
            let refused = try await serve.curl(maker + ["https://login.microsoftonline.com\(path)"])
            #expect(refused.status == 403)
            #expect(serve.auditObjects().first?["setting"] as? String == "tokenFlows")
        }
    }

    // MARK: - One canonical request target

    /// Spellings of the blocked Northwind token endpoint: all recognised, judged and refused before going upstream.
    @Test(arguments: [
        "https://login.microsoftonline.com/NORTHWIND/oauth2/v2.0/token",
        "https://LOGIN.microsoftonline.com.:443/NORTHWIND/oauth2/v2.0/token",
        "/NORTHWIND/%6Fauth2/v2.0/tok%65n",
        "//NORTHWIND//oauth2/v2.0/./token",
        "/x/../NORTHWIND/oauth2/v2.0/token",
        "/NORTHWIND;a=b/oauth2/v2.0/token",
        "/NORTHWIND/OAuth2/V2.0/Token",
        // Escapes an STS may decode in the tenant segment (the canonical target keeps them encoded).
        "/%7BNORTHWIND%7D/oauth2/v2.0/token",
        "/NORTHWIND%3Bjunk/oauth2/v2.0/token",
    ])
    func tokenEndpointSpellingsAreRecognised(_ spelling: String) async throws {
        let target = spelling.replacingOccurrences(of: "NORTHWIND", with: Self.northwind.description)
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + [
                    "--path-as-is", "--request-target", target, "-d", Self.form, "https://login.microsoftonline.com/",
                ]
            )
            #expect(response.status == 403, "\(target): HTTP \(response.status)")
            #expect(Self.carriesNoToken(response.body))
            let line = serve.auditObjects().first
            #expect(line?["decision"] as? String == "blocked")
            // The canonical target is audited (letter case is the client's: paths are case-sensitive in general;
            // reserved escapes stay as sent).
            let audited = ((line?["path"] as? String) ?? "").lowercased()
                .replacingOccurrences(of: "%7b", with: "").replacingOccurrences(of: "%7d", with: "")
                .replacingOccurrences(of: "%3bjunk", with: "")
            #expect(audited == "/\(Self.northwind)/oauth2/v2.0/token")
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)
        }
    }

    /// Ambiguous targets, a second host, repeated decision fields, a form that cannot be read as the STS reads it
    /// (encoded, or in a charset a byte reader cannot read): 400, audited, nothing sent upstream.
    @Test(arguments: [
        ("/%2FNORTHWIND/oauth2/v2.0/token", [String]()),
        ("/NORTHWIND/oauth2/v2.0/token", ["-H", "Content-Encoding: gzip"]),
        ("/NORTHWIND/oauth2/v2.0/token", ["-H", "Content-Type: application/x-www-form-urlencoded; charset=utf-16"]),
        ("/NORTHWIND/oauth2/v2.0/token%00", []),
        ("https://evil.example/NORTHWIND/oauth2/v2.0/token", []),
        ("/NORTHWIND/oauth2/v2.0/token", ["-H", "Host: login.microsoftonline.us"]),
        ("/NORTHWIND/oauth2/v2.0/token", ["--data-raw", "&client_id=11111111-2222-3333-4444-555555555555"]),
        ("/NORTHWIND/oauth2/v2.0/token?" + String(repeating: "q", count: 9000), []),
    ])
    func ambiguousRequestsAreRefused(target: String, extra: [String]) async throws {
        let target = target.replacingOccurrences(of: "NORTHWIND", with: Self.fabrikam.description)
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + ["--path-as-is", "--request-target", target, "-d", Self.form] + extra + [
                    "https://login.microsoftonline.com/"
                ]
            )
            #expect(response.status == 400, "\(target) \(extra): HTTP \(response.status)")
            #expect(Self.carriesNoToken(response.body))
            #expect(serve.auditObjects().first?["decision"] as? String == "error")
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.fabrikam.description) == 0)
        }
    }

    // MARK: - Hosts however they are spelled

    /// A trailing dot and upper case in the CONNECT host are the same STS.
    @Test(arguments: ["login.microsoftonline.com.", "LOGIN.MicrosoftOnline.COM"])
    func connectHostSpellingsAreIntercepted(_ host: String) async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + ["-d", Self.form, "https://\(host)/\(Self.northwind)/oauth2/v2.0/token"]
            )
            #expect(response.status == 403)
            #expect(serve.auditObjects().first?["decision"] as? String == "blocked")
        }
    }

    /// Every ESTS front-end name is judged like the main one (issue 30: they were tunnelled unjudged), MSAL's mTLS
    /// and other clouds' regional token hosts too (review 42).
    @Test(arguments: [
        "loginex.microsoftonline.com", "login.microsoftonline-p.com", "ccs.login.microsoftonline.com",
        "eastus.mtlsauth.microsoft.com", "mtlsauth.microsoftonline.us", "usgovvirginia.login.microsoftonline.us",
        "chinaeast2.login.partner.microsoftonline.cn",
    ])
    func otherEntraFrontEndNamesAreJudged(_ host: String) async throws {
        try await ServeProcess.with { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + ["-d", Self.form, "https://\(host)/\(Self.northwind)/oauth2/v2.0/token"]
            )
            #expect(response.status == 403, "\(host): HTTP \(response.status)")
            #expect(serve.auditObjects().first?["host"] as? String == host)
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.northwind.description) == 0)
        }
    }

    /// A CONNECT to an IP literal or an alias whose TLS names an STS is intercepted as that STS.
    @Test(arguments: ["127.0.0.1", "sts-alias.invalid"])
    func theClientHelloNameDecidesInterception(_ connectHost: String) async throws {
        try await ServeProcess.with(extraArguments: ["--allow-destination", "127.0.0.0/8"]) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let response = try await serve.curl(
                maker + [
                    "--connect-to", "login.microsoftonline.com:443:\(connectHost):443", "-d", Self.form,
                    "https://login.microsoftonline.com/\(Self.northwind)/oauth2/v2.0/token",
                ]
            )
            #expect(response.status == 403, "CONNECT \(connectHost): HTTP \(response.status)")
            #expect(serve.auditObjects().first?["decision"] as? String == "blocked")
        }
    }

    /// A CONNECT naming an STS whose ClientHello names another host is refused, and audited.
    @Test func aClientHelloNamingAnotherHostIsRefused() async throws {
        try await ServeProcess.with { serve in
            let output = try await ProxyEndToEndTests.openSSLClient(
                proxyPort: serve.proxyPort,
                caPath: serve.caPath,
                input: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                serverName: "elsewhere.example"
            )
            #expect(!output.contains("HTTP/1.1"))
            let line = serve.auditObjects().first
            #expect(line?["setting"] as? String == "tlsServerName")
            #expect((line?["reason"] as? String)?.contains("elsewhere.example") == true)
        }
    }

    // MARK: - Not an open proxy

    @Test(arguments: [
        "http://127.0.0.1:PROXY/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/",
        "http://[::1]:PROXY/", "http://168.63.129.16/machine?comp=goalstate", "http://[2002:a9fe:a9fe::1]/",
        "http://example.test:25/",
        "http://login.microsoftonline.com/common/oauth2/v2.0/token",
    ])
    func plainHTTPToRefusedDestinationsIsRefused(_ url: String) async throws {
        try await ServeProcess.with { serve in
            let response = try await serve.curl([url.replacingOccurrences(of: "PROXY", with: "\(serve.proxyPort)")])
            #expect(response.status == 403, "\(url): HTTP \(response.status)")
            #expect(serve.auditObjects().first?["decision"] as? String == "blocked")
        }
    }

    /// The proxy's own listener stays refused even inside an opened range (no loop through itself).
    @Test func theProxysOwnListenerIsNeverADestination() async throws {
        let port = try ServeProcess.freePort()
        try await ServeProcess.with(extraArguments: [
            "--allow-destination", "127.0.0.0/8", "--listen", "127.0.0.1:\(port)", "--allow-http-port", "\(port)",
        ]) { serve in
            let response = try await serve.curl(["http://127.0.0.1:\(serve.proxyPort)/"])
            #expect(response.status == 403)
            #expect((serve.auditObjects().first?["reason"] as? String)?.contains("own listener") == true)
        }
    }

    @Test(arguments: [
        "127.0.0.1", "169.254.169.254", "10.1.2.3", "[fd00:ec2::254]", "[::ffff:127.0.0.1]", "168.63.129.16",
        "[64:ff9b::a9fe:a9fe]", "[2002:7f00:1::]", "[::a9fe:a9fe]",
    ])
    func connectToRefusedDestinationsIsRefused(_ host: String) async throws {
        try await ServeProcess.with { serve in
            let output = try await Curl.run([
                "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy", serve.proxy,
                "https://\(host)/",
            ])
            #expect(output == "403", "CONNECT \(host): \(output)")
            #expect(serve.auditObjects().first?["setting"] as? String == "destinationPolicy")
        }
    }

    /// Beyond loopback only listed clients are served; here loopback itself is not listed.
    @Test func clientsOutsideTheAllowedRangesAreRefused() async throws {
        try await ServeProcess.with(extraArguments: ["--allow-client", "192.0.2.0/24"]) { serve in
            let maker = serve.makerHeader(try await serve.sts.makerToken(tenant: Self.contoso))
            let output = try await Curl.run([
                "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_connect}", "--proxy", serve.proxy,
                "--proxy-header", maker[1], "https://login.microsoftonline.com/",
            ])
            #expect(output == "403")
            #expect(serve.auditObjects().first?["setting"] as? String == "clientPolicy")
        }
    }
}

/// Runs a Python client of the tests with a deadline; a missing interpreter or module fails the test loudly.
enum Python {
    /// python3 with `arguments`: its standard output, or an error with the end of its standard error.
    static func run(_ arguments: [String], timeoutSeconds: Double = 60) async throws -> String {
        let outcome = try await ChildProcess.run(
            "/usr/bin/env",
            ["python3"] + arguments,
            deadlineSeconds: Int(timeoutSeconds.rounded(.up))
        )
        guard outcome.status == 0 else {
            throw Curl.Failure(
                description: "python3 \(arguments.first ?? "") failed: \(String(outcome.errors.suffix(2000)))"
            )
        }
        return outcome.output
    }
}
