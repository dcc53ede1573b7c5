import Foundation
import LoopbackSimulation
import MockSTS
import TenantPolicy
import TestSupport
import Testing

/// The console's sign-in and session as an attacker would try them, with curl as the browser over real sockets:
/// a callback from another browser, a changed `state`, a replayed code, an open redirect, a missing or wrong CSRF
/// token, a user without a role, pages that echo input.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ConsoleSignInTests {
    static let contoso = ExampleTenants.contoso.description
    static let rules =
        "/providers/PowerPlatform.Governance/v1/tenants/\(contoso)/tenantIsolationPolicy/rules"

    /// One browser: curl with its own cookie jar, never following redirects.
    struct Browser {
        let base: String
        let jar: String
        var extraArguments: [String] = []

        struct Answer {
            let status: Int
            let headers: [String]
            let body: String

            func header(_ name: String) -> [String] {
                headers.compactMap { line in
                    let parts = line.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }

            var location: String { header("location").first ?? "" }
        }

        /// One request, as a browser would send it; 30 s at most (a first sign-in beside the whole suite on two
        /// cores once took more than 10).
        func call(
            _ url: String,
            method: String = "GET",
            body: String? = nil,
            headers: [String] = []
        ) async throws
            -> Answer
        {
            var arguments = ["-s", "-m", "30", "-i", "-c", jar, "-b", jar, "-X", method, "-w", "\n%{http_code}"]
            arguments += extraArguments
            for header in headers { arguments += ["-H", header] }
            if let body { arguments += ["--data-raw", body] }
            let output = try await Curl.run(arguments + [url.hasPrefix("http") ? url : base + url])
            var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let status = Int(lines.removeLast()) ?? 0
            let text = lines.joined(separator: "\n")
            let split = text.range(of: "\r\n\r\n")
            let head = split.map { String(text[..<$0.lowerBound]) } ?? text
            return Answer(
                status: status,
                headers: head.components(separatedBy: "\r\n"),
                body: split.map { String(text[$0.upperBound...]) } ?? ""
            )
        }

        /// Starts a sign-in and picks `user` on the mock's page: the callback URL Entra would send the browser to.
        func callback(for user: String, returnTo: String = "/console/isolation") async throws -> String {
            let start = try await call("/console/signin?return=\(returnTo)")
            #expect(start.status == 303)
            let picked = try await call(start.location + "&mock_user=\(user)")
            #expect(picked.status == 302)
            return picked.location
        }

        func signIn(_ user: String) async throws -> Answer {
            try await call(try await callback(for: user))
        }

        func csrf() async throws -> String {
            let page = try await call("/console/activity")
            guard let range = page.body.range(of: #"data-csrf=""#) else { return "" }
            return String(page.body[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func withConsole(
        adminTenants: Set<TenantID>? = nil,
        policies: String = ProxyEndToEndTests.policies,
        _ test: (LoopbackHarness, @escaping () -> Browser) async throws -> Void
    ) async throws {
        let harness = try await LoopbackHarness(
            policiesDirectory: policies,
            console: true,
            adminTenants: adminTenants
        )
        let base = "http://127.0.0.1:\(harness.adminPort ?? 0)"
        let browser = {
            Browser(base: base, jar: harness.directory.appendingPathComponent("jar-\(UUID().uuidString)").path)
        }
        do {
            try await test(harness, browser)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func theSignInIsBoundToItsBrowserStateAndCode() async throws {
        try await Self.withConsole { _, browser in
            let victim = browser()
            let callback = try await victim.callback(for: "megan")

            // Another browser cannot complete this sign-in (login CSRF): it has no attempt cookie.
            let attacker = browser()
            let stolen = try await attacker.call(callback)
            #expect(stolen.status == 400)
            #expect(stolen.header("set-cookie").allSatisfy { !$0.hasPrefix("tenantgate_session=") })

            // A changed state is refused, and the attempt is then spent.
            let tampered = callback.replacingOccurrences(of: "state=", with: "state=x")
            #expect(try await victim.call(tampered).status == 400)
            #expect(try await victim.call(callback).status == 400)

            // A fresh, untouched sign-in works; its session cookie is HttpOnly and SameSite, not Secure over HTTP.
            let fresh = try await victim.callback(for: "megan")
            let done = try await victim.call(fresh)
            #expect(done.status == 303)
            #expect(done.location == "/console/isolation")
            let cookie = try #require(done.header("set-cookie").first { $0.hasPrefix("tenantgate_session=") })
            #expect(cookie.contains("HttpOnly"))
            #expect(cookie.contains("SameSite=Lax"))
            #expect(!cookie.contains("Secure"))
            // Replaying the callback finds nothing: the attempt and the code are good once.
            #expect(try await victim.call(fresh).status == 400)
            #expect(try await victim.call("/console/isolation").status == 200)
            // A GET of the sign-in page (which any site can make a browser send) does not end the session.
            #expect(try await victim.call("/console/signin").status == 303)
            #expect(try await victim.call("/console/isolation").status == 200)
        }
    }

    /// An allowlist may hold a million rules: the page shows the first ones and says how many more the API lists,
    /// rather than rendering them all (70 s and 2 GB of memory for a million).
    @Test func theIsolationPageShowsTheFirstRulesOfALongAllowlist() async throws {
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("console-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: ProxyEndToEndTests.policies), to: policies)
        defer { try? FileManager.default.removeItem(at: policies) }
        let contoso = policies.appendingPathComponent("contoso.yaml")
        let extra = (1...600).map {
            String(format: "    - tenant: 00000000-0000-4000-8000-%012d\n      direction: inbound\n", $0)
        }
        try (String(contentsOf: contoso, encoding: .utf8) + extra.joined()).write(
            to: contoso,
            atomically: true,
            encoding: .utf8
        )
        try await Self.withConsole(policies: policies.path) { _, browser in
            let megan = browser()
            _ = try await megan.call(try await megan.callback(for: "megan"))
            let page = try await megan.call("/console/isolation")
            #expect(page.status == 200)
            #expect(page.body.components(separatedBy: "data-rule-row=").count - 1 == 500)
            #expect(page.body.contains("102 more rules are not shown here"), "\(page.body.suffix(3000))")
        }
    }

    /// Anyone who reaches the admin listener may send any query to the console, signed in or not. A malformed
    /// escape (`%`, `%zz`) or a quote in one stopped the whole process, proxy and all: Foundation's URLComponents
    /// fatalError. Through the binary: each is answered, and the proxy serves on.
    @Test func malformedQueriesAreAnsweredAndTheProxyServesOn() async throws {
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(
            extraArguments: [
                "--admin", "127.0.0.1:\(adminPort)", "--console-client-id", "6f1b3c2a-0000-4000-8000-00000000c0de",
            ]
        ) { serve in
            for target in [
                "/console/signin/callback?state=%", "/console/signin/callback?code=%zz&state=%4",
                "/console/signin?return=%", "/console/activity?tenant=%&decision=\"", "/console/isolation?q=%25%",
                "/console/report?period=%", "/console/what-if?creator=%",
            ] {
                let status = try await Curl.run([
                    // The sign-in start asks Entra's discovery first, which fails here only after DNS gives up.
                    "-s", "-g", "--path-as-is", "-o", "/dev/null", "-m", "40", "-w", "%{http_code}",
                    "http://127.0.0.1:\(adminPort)\(target)",
                ])
                #expect(Int(status).map { (300..<600).contains($0) } == true, "\(target): \(status)")
            }
            let answer = try await serve.exchange(
                creator: ProxyEndToEndTests.contoso,
                signIn: ProxyEndToEndTests.fabrikam
            )
            #expect(answer.status == 200, "the proxy still answers: \(serve.log().suffix(2000))")
        }
    }

    @Test func forgedMissingOrOversizedInputsGetNoSession() async throws {
        try await Self.withConsole { _, browser in
            let user = browser()
            let forged = ["Cookie: tenantgate_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
            let page = try await user.call("/console/activity", headers: forged)
            #expect(page.status == 303)
            #expect(page.location.hasPrefix("/console/signin"))
            let change = try await user.call(
                Self.rules,
                method: "POST",
                body: #"{"tenant":"*","direction":"both"}"#,
                headers: forged + ["X-CSRF-Token: x", "Content-Type: application/json"]
            )
            #expect(change.status == 401)

            // The callback without its state, and with Entra's error but no state: no session either way.
            let callback = try await user.callback(for: "megan")
            let stateless = callback.components(separatedBy: "&state=").first ?? callback
            #expect(try await user.call(stateless).status == 400)
            let denied = try await user.call("/console/signin/callback?error=access_denied")
            #expect(denied.status == 400)
            #expect(denied.header("set-cookie").allSatisfy { !$0.hasPrefix("tenantgate_session=") })

            // A sign-out without a session is refused before its body is read, whatever its size.
            let huge = "csrf=" + String(repeating: "a", count: 8192)
            #expect(try await user.call("/console/signout", method: "POST", body: huge).status == 403)
        }
    }

    /// With `--console-public-url` the sign-in's redirect URI is the configured one, whatever Host the request names.
    @Test func theRedirectURIComesFromTheConfiguredPublicURL() async throws {
        let publicURL = try #require(URL(string: "https://console.contoso.example"))
        let harness = try await LoopbackHarness(
            policiesDirectory: ProxyEndToEndTests.policies,
            console: true,
            consolePublicURL: publicURL
        )
        do {
            let output = try await Curl.run([
                "-s", "-m", "10", "-o", "/dev/null", "-w", "%{redirect_url}", "-H", "Host: evil.example",
                "http://127.0.0.1:\(harness.adminPort ?? 0)/console/signin",
            ])
            let query = URLComponents(string: output)?.queryItems ?? []
            #expect(
                query.first { $0.name == "redirect_uri" }?.value
                    == "https://console.contoso.example/console/signin/callback",
                "\(output)"
            )
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func returnPathsStayInTheConsole() async throws {
        try await Self.withConsole { _, browser in
            for target in ["//evil.example/console", "https://evil.example/", "/console%2F%2Fevil.example"] {
                let user = browser()
                let callback = try await user.callback(for: "megan", returnTo: target)
                let done = try await user.call(callback)
                #expect(done.status == 303)
                #expect(done.location.hasPrefix("/console"), "\(target) -> \(done.location)")
                #expect(!done.location.contains("evil"), "\(target) -> \(done.location)")
            }
        }
    }

    @Test func aUserWithoutARoleGetsNoSession() async throws {
        try await Self.withConsole { _, browser in
            let user = browser()
            let answer = try await user.signIn("alex")
            #expect(answer.status == 403)
            #expect(answer.body.contains("no role that may use the console"))
            #expect(answer.header("set-cookie").allSatisfy { !$0.hasPrefix("tenantgate_session=") })
            #expect(try await user.call("/console/activity").status == 303)
        }
    }

    /// A Global Administrator of a tenant the operator never granted (a throwaway tenant) gets no session; named
    /// with `--admin-tenant`, the same account signs in.
    @Test func anAdministratorOfAnUngrantedTenantGetsNoSession() async throws {
        try await Self.withConsole { _, browser in
            let mallory = browser()
            let answer = try await mallory.signIn("mallory")
            #expect(answer.status == 403)
            #expect(answer.body.contains("not one whose administrators may use this TenantGate"))
            #expect(answer.header("set-cookie").allSatisfy { !$0.hasPrefix("tenantgate_session=") })
            #expect(try await mallory.call("/console/activity").status == 303)
        }
        try await Self.withConsole(adminTenants: [MockConsoleUser.throwawayTenant]) { _, browser async throws in
            let mallory = browser()
            #expect(try await mallory.signIn("mallory").status == 303)
            #expect(try await mallory.call("/console/activity").status == 200)
        }
    }

    @Test func changesWithASessionNeedItsCSRFTokenAndAreAuditedAsTheUser() async throws {
        try await Self.withConsole { harness, browser in
            let megan = browser()
            _ = try await megan.signIn("megan")
            let body = #"{"tenant":"northwind.onmicrosoft.com","direction":"outbound"}"#
            let json = "Content-Type: application/json"
            #expect(try await megan.call(Self.rules, method: "POST", body: body, headers: [json]).status == 403)
            let wrong = try await megan.call(
                Self.rules,
                method: "POST",
                body: body,
                headers: [json, "X-CSRF-Token: not-the-token"]
            )
            #expect(wrong.status == 403)
            #expect(wrong.body.contains("CSRF"))
            let token = try await megan.csrf()
            let added = try await megan.call(
                Self.rules,
                method: "POST",
                body: body,
                headers: [json, "X-CSRF-Token: \(token)"]
            )
            #expect(added.status == 201)
            // The same audit line an API call makes, naming the console user.
            let change = harness.auditLines().last { $0.contains("POST rules") } ?? ""
            #expect(change.contains("megan@contoso.onmicrosoft.com"))

            // A Security Administrator's session reaches cross-tenant access, not isolation.
            let adele = browser()
            _ = try await adele.signIn("adele")
            let refused = try await adele.call(
                Self.rules,
                method: "POST",
                body: body,
                headers: [json, "X-CSRF-Token: \(try await adele.csrf())"]
            )
            #expect(refused.status == 403)
            #expect(try await adele.call("/v1.0/policies/crossTenantAccessPolicy").status == 200)
        }
    }

    @Test func signOutNeedsTheTokenAndEndsTheSession() async throws {
        try await Self.withConsole { _, browser in
            let megan = browser()
            _ = try await megan.signIn("megan")
            #expect(try await megan.call("/console/signout", method: "POST", body: "csrf=nope").status == 403)
            #expect(try await megan.call("/console/activity").status == 200)
            let token = try await megan.csrf()
            #expect(try await megan.call("/console/signout", method: "POST", body: "csrf=\(token)").status == 200)
            let after = try await megan.call("/console/activity")
            #expect(after.status == 303)
            #expect(after.location.hasPrefix("/console/signin"))
        }
    }

    @Test func pagesEscapeWhatTheyEchoAndForbidScriptsFromElsewhere() async throws {
        try await Self.withConsole { _, browser in
            let megan = browser()
            _ = try await megan.signIn("megan")
            let page = try await megan.call("/console/activity?tenant=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            #expect(page.status == 200)
            #expect(!page.body.contains("<script>alert(1)"))
            #expect(page.body.contains("&lt;script&gt;alert(1)"))
            let policy = try #require(page.header("content-security-policy").first)
            #expect(policy.contains("script-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'"))
            #expect(page.header("x-content-type-options") == ["nosniff"])
        }
    }

    @Test func anAdministratorAsksAboutTheirOwnTenantOnly() async throws {
        try await Self.withConsole { _, browser in
            let megan = browser()
            _ = try await megan.signIn("megan")
            let own = try await megan.call(
                "/console/what-if?kind=isolation&tenant=contoso.onmicrosoft.com&other=northwind.onmicrosoft.com"
            )
            #expect(own.body.contains(#"id="explanation""#))
            #expect(own.body.contains("Blocked (outbound)"))
            let others = try await megan.call(
                "/console/what-if?kind=isolation&tenant=fabrikam.onmicrosoft.com&other=northwind.onmicrosoft.com"
            )
            #expect(!others.body.contains(#"id="explanation""#))
            #expect(others.body.contains("your own tenant"))
            let settings = try await megan.call(
                "/console/what-if?kind=b2b-collaboration&tenant=fabrikam.onmicrosoft.com&other=contoso.onmicrosoft.com"
            )
            #expect(
                settings.body.contains("your own tenant&#39;s settings")
                    || settings.body.contains("your own tenant's settings")
            )
        }
    }

    @Test func theMockSTSRequiresPKCEAndTheRightVerifier() async throws {
        try await Self.withConsole { harness, browser in
            let user = browser()
            let plain = "http://127.0.0.1:\(harness.sts.plainPort ?? 0)"
            let noChallenge = try await user.call(
                "\(plain)/organizations/oauth2/v2.0/authorize?response_type=code&client_id=c&redirect_uri=http://x/cb"
            )
            #expect(noChallenge.status == 400)
            let callback = try await user.callback(for: "megan")
            let code = URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value ?? ""
            let redeemed = try await user.call(
                "\(plain)/organizations/oauth2/v2.0/token",
                method: "POST",
                body: "grant_type=authorization_code&client_id=\(LoopbackHarness.consoleClientID)&code=\(code)"
                    + "&redirect_uri=http://127.0.0.1:\(harness.adminPort ?? 0)/console/signin/callback"
                    + "&code_verifier=not-the-verifier"
            )
            #expect(redeemed.status == 400)
            #expect(redeemed.body.contains("invalid_grant"))
            // The code was spent by the wrong verifier: the console's own redemption now fails too.
            #expect(try await user.call(callback).status == 400)
        }
    }
}
