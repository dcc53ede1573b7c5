import EntraAuth
import Foundation
import JWTKit
import LoopbackSimulation
import TenantGateApp
import TenantPolicy
import Testing

/// The admin API through the real listener: curl with Entra-shaped tokens signed by a key the test owns,
/// edits enforced on the next token exchange through the proxy, files written atomically, audit lines.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct AdminEndToEndTests {
    static let contoso = ProxyEndToEndTests.contoso
    static let fabrikam = ProxyEndToEndTests.fabrikam
    static let northwind = ProxyEndToEndTests.northwind
    static let adatum = ProxyEndToEndTests.adatum
    static let audience = "api://tenantgate-admin"
    static let globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"
    static let powerPlatformAdministrator = "11648597-926c-4cf3-9c36-bcebb0ba8dcc"
    static let securityAdministrator = "194ae4cb-b126-40b2-bd5b-6091b380977d"
    static let isolationPath =
        "/providers/PowerPlatform.Governance/v1/tenants/\(contoso)/tenantIsolationPolicy?api-version=2020-10-01"
    static let graphPath = "/v1.0/policies/crossTenantAccessPolicy"

    struct Claims: JWTPayload {
        var tid: String
        var iss: String
        var aud: String
        var oid = "4f1e2d3c-5b6a-4798-8a9b-0c1d2e3f4a5b"
        var preferred_username = "admin@contoso.onmicrosoft.com"
        var wids: [String]
        var nbf: Int
        var exp: Int
        func verify(using algorithm: some JWTAlgorithm) throws {}
    }

    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// A copy of `policies/` (the API writes to it), the harness with the admin listener, and a token signer.
    /// Unchecked: set up once, then only read; tests call it from concurrent `async let`s.
    final class Setup: @unchecked Sendable {
        let directory: URL
        let key: ES256PrivateKey
        let signers = JWTKeyCollection()
        var harness: LoopbackHarness!

        init(
            policies: String = ProxyEndToEndTests.policies,
            auditLogPath: String? = nil,
            policyStore: PolicyStoreSettings? = nil,
            key: ES256PrivateKey = ES256PrivateKey(),
            adminTenants: Set<TenantID>? = nil
        ) async throws {
            self.key = key
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "tenantgate-admin-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: policies)
            where name.hasSuffix(".yaml") || name.hasSuffix(".json") {
                try FileManager.default.copyItem(
                    atPath: "\(policies)/\(name)",
                    toPath: directory.appendingPathComponent(name).path
                )
            }
            await signers.add(ecdsa: key, kid: "admin")
            let parameters = key.parameters!
            let jwks =
                #"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","kid":"admin","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
            let configuration = EntraTokenTrust(
                keys: try .json(jwks),
                issuers: .entraIssuerOfTokenTenant,
                audiences: [AdminEndToEndTests.audience]
            )
            harness = try await LoopbackHarness(
                policiesDirectory: directory.path,
                admin: configuration,
                auditLogPath: auditLogPath,
                policyStore: policyStore,
                adminTenants: adminTenants
            )
        }

        func token(
            tenant: TenantID = AdminEndToEndTests.contoso,
            roles: [String] = [AdminEndToEndTests.globalAdministrator],
            expiresIn: Int = 3600
        ) async throws -> String {
            let now = Int(Date().timeIntervalSince1970)
            return try await signers.sign(
                Claims(
                    tid: tenant.description,
                    iss: "https://login.microsoftonline.com/\(tenant)/v2.0",
                    aud: AdminEndToEndTests.audience,
                    wids: roles,
                    nbf: now - 60,
                    exp: now + expiresIn
                ),
                kid: "admin"
            )
        }

        func call(
            _ method: String,
            _ path: String,
            token: String?,
            body: String? = nil,
            ifMatch: String? = nil
        ) async throws -> Reply {
            var arguments = [
                "-s", "-m", "20", "-X", method, "-D", "-", "-w", "\n%{http_code}",
                "http://127.0.0.1:\(harness.adminPort!)\(path)",
            ]
            if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
            if let ifMatch { arguments += ["-H", "If-Match: \(ifMatch)"] }
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let output = try await Curl.run(arguments)
            let status = Int(output.split(separator: "\n").last ?? "") ?? 0
            let withoutStatus = String(output[..<(output.lastIndex(of: "\n") ?? output.endIndex)])
            let parts = withoutStatus.components(separatedBy: "\r\n\r\n")
            var headers: [String: String] = [:]
            for line in (parts.first ?? "").components(separatedBy: "\r\n").dropFirst() {
                let pair = line.split(separator: ":", maxSplits: 1)
                if pair.count == 2 { headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
            }
            return Reply(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
        }

        func exchange(_ signIn: TenantID) async throws -> Int {
            try await harness.tokenRequest(creator: AdminEndToEndTests.contoso, path: "/\(signIn)/oauth2/v2.0/token")
                .status
        }

        func stop() async {
            await harness.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func with(policies: String = ProxyEndToEndTests.policies, _ body: (Setup) async throws -> Void) async throws
    {
        let setup = try await Setup(policies: policies)
        do { try await body(setup) } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    @Test func tokensAreVerifiedAndRolesAndTenantsChecked() async throws {
        try await Self.with { setup in
            let missing = try await setup.call("GET", Self.isolationPath, token: nil)
            #expect(missing.status == 401)
            #expect(missing.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            let expired = try await setup.call(
                "GET",
                Self.isolationPath,
                token: try await setup.token(expiresIn: -3600)
            )
            #expect(expired.status == 401)
            #expect((expired.json["error"] as? [String: Any])?["message"] as? String == "the token has expired")

            let other = ES256PrivateKey()
            let strangers = JWTKeyCollection()
            await strangers.add(ecdsa: other, kid: "admin")
            let now = Int(Date().timeIntervalSince1970)
            let forged = try await strangers.sign(
                Claims(
                    tid: Self.contoso.description,
                    iss: "https://login.microsoftonline.com/\(Self.contoso)/v2.0",
                    aud: Self.audience,
                    wids: [Self.globalAdministrator],
                    nbf: now,
                    exp: now + 600
                ),
                kid: "admin"
            )
            #expect(try await setup.call("GET", Self.isolationPath, token: forged).status == 401)

            let payload = Data(
                #"{"tid":"\#(Self.contoso)","iss":"https://login.microsoftonline.com/\#(Self.contoso)/v2.0","aud":"\#(Self.audience)","wids":["\#(Self.globalAdministrator)"],"exp":\#(now + 600)}"#
                    .utf8
            )
            let unsigned =
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
                + payload.base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(
                    of: "/",
                    with: "_"
                ) + "."
            #expect(try await setup.call("GET", Self.isolationPath, token: unsigned).status == 401)

            // Roles: Power Platform Administrator for isolation only; Security Administrator for Graph only.
            let powerPlatform = try await setup.token(roles: [Self.powerPlatformAdministrator])
            #expect(try await setup.call("GET", Self.isolationPath, token: powerPlatform).status == 200)
            let graphRefused = try await setup.call("GET", Self.graphPath, token: powerPlatform)
            #expect(graphRefused.status == 403)
            #expect((graphRefused.json["error"] as? [String: Any])?["code"] as? String == "Authorization_RequestDenied")
            let security = try await setup.token(roles: [Self.securityAdministrator])
            #expect(try await setup.call("GET", Self.graphPath, token: security).status == 200)
            #expect(try await setup.call("GET", Self.isolationPath, token: security).status == 403)
            #expect(
                try await setup.call("GET", Self.isolationPath, token: try await setup.token(roles: [])).status == 403
            )

            // A Global Administrator of Fabrikam cannot touch Contoso's policy.
            let fabrikamAdmin = try await setup.token(tenant: Self.fabrikam)
            #expect(try await setup.call("GET", Self.isolationPath, token: fabrikamAdmin).status == 403)
            // Health needs no token.
            #expect(try await setup.call("GET", "/healthz", token: nil).status == 200)
        }
    }

    /// Any Entra tenant's Global Administrator holds the roles: by default only the governed tenants' administrators
    /// may use the API, so a throwaway tenant's cannot create a policy that joins the set; `--admin-tenant` names
    /// others.
    @Test func administratorsOfAnUngovernedTenantAreRefused() async throws {
        let northwindPath =
            "/providers/PowerPlatform.Governance/v1/tenants/\(Self.northwind)/tenantIsolationPolicy?api-version=2020-10-01"
        let create =
            #"{"properties":{"tenantId":"\#(Self.northwind)","isDisabled":false,"allowedTenants":[]}}"#
        try await Self.with { setup in
            let northwindAdmin = try await setup.token(tenant: Self.northwind)
            let refused = try await setup.call("PUT", northwindPath, token: northwindAdmin, body: create)
            #expect(refused.status == 403, "\(refused.body)")
            #expect(refused.body.contains("--admin-tenant"))
            #expect(try await setup.call("GET", northwindPath, token: northwindAdmin).status == 403)
            let files = try FileManager.default.contentsOfDirectory(atPath: setup.directory.path)
            #expect(
                !files.contains { $0.lowercased().contains("northwind") || $0.contains(Self.northwind.description) }
            )
            // Contoso's administrators, whose tenant is governed, are served as ever.
            #expect(try await setup.call("GET", Self.isolationPath, token: try await setup.token()).status == 200)
        }
        let named = try await Setup(adminTenants: [Self.contoso, Self.northwind])
        do {
            let northwindAdmin = try await named.token(tenant: Self.northwind)
            let created = try await named.call("PUT", northwindPath, token: northwindAdmin, body: create)
            let status = created.status
            #expect(status == 200 || status == 201, "\(created.body)")
        } catch {
            await named.stop()
            throw error
        }
        await named.stop()
    }

    @Test func powerPlatformPutIsValidatedGuardedPersistedAuditedAndEnforcedAtOnce() async throws {
        try await Self.with { setup in
            let token = try await setup.token()
            #expect(try await setup.exchange(Self.northwind) == 403)

            let read = try await setup.call("GET", Self.isolationPath, token: token)
            #expect(read.status == 200)
            let etag = try #require(read.headers["etag"])
            let properties = read.json["properties"] as? [String: Any]
            #expect(properties?["isDisabled"] as? Bool == false)
            #expect((properties?["allowedTenants"] as? [[String: Any]])?.count == 2)

            let allowNorthwind =
                #"{"properties":{"tenantId":"\#(Self.contoso)","isDisabled":false,"allowedTenants":[{"tenantId":"\#(Self.northwind)","direction":{"inbound":false,"outbound":true}}]}}"#
            // A stale ETag changes nothing.
            let stale = try await setup.call(
                "PUT",
                Self.isolationPath,
                token: token,
                body: allowNorthwind,
                ifMatch: "\"0\""
            )
            #expect(stale.status == 412)
            #expect(try await setup.exchange(Self.northwind) == 403)

            // An invalid policy is refused with every error, and the old one stays in force.
            let invalid =
                #"{"properties":{"tenantId":"\#(Self.contoso)","isDisabled":"sometimes","allowedTenants":[{"tenantId":"not-a-guid","direction":{"inbound":false,"outbound":false}}]}}"#
            let refused = try await setup.call("PUT", Self.isolationPath, token: token, body: invalid, ifMatch: etag)
            #expect(refused.status == 400)
            #expect(((refused.json["error"] as? [String: Any])?["details"] as? [Any])?.count ?? 0 >= 3)
            #expect(try await setup.exchange(Self.northwind) == 403)

            let written = try await setup.call(
                "PUT",
                Self.isolationPath,
                token: token,
                body: allowNorthwind,
                ifMatch: etag
            )
            #expect(written.status == 200)
            #expect(written.headers["etag"] != etag)
            // In force for the very next exchange, no reload needed.
            #expect(try await setup.exchange(Self.northwind) == 200)
            #expect(try await setup.exchange(Self.fabrikam) == 403)
            // Written back to Contoso's own file (project YAML), which validates.
            let file = try String(contentsOf: setup.directory.appendingPathComponent("contoso.yaml"), encoding: .utf8)
            #expect(file.contains(Self.northwind.description))
            #expect(
                try !FileManager.default.contentsOfDirectory(atPath: setup.directory.path).contains {
                    $0.hasSuffix(".tmp")
                }
            )

            let change = setup.harness.auditLines().compactMap { line -> [String: Any]? in
                let object = ProxyEndToEndTests.auditObject(line)
                return object["event"] as? String == "policy_change" ? object : nil
            }
            #expect(change.count == 1)
            #expect(change.first?["tenant"] as? String == Self.contoso.description)
            #expect((change.first?["actor"] as? [String: Any])?["name"] as? String == "admin@contoso.onmicrosoft.com")
            #expect(change.first?["before"] is [String: Any])
            #expect(!setup.harness.auditLines().joined().contains(token))
        }
    }

    /// A tenant's first isolation policy goes to a new file, even when the operator named another document after the
    /// tenant: here Northwind's Graph settings live in `<Northwind>.json`, and stay as they were.
    @Test func aNewPolicyNeverReplacesADocumentThatHoldsItsName() async throws {
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("policies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: policies) }
        let source = CrossTenantAccessEndToEndTests.policies
        for name in ["contoso.yaml", "directory.yaml"] {
            try FileManager.default.copyItem(
                atPath: "\(source)/\(name)",
                toPath: policies.appendingPathComponent(name).path
            )
        }
        let settings = try String(contentsOfFile: "\(source)/northwind.json", encoding: .utf8)
        try settings.write(
            to: policies.appendingPathComponent("\(Self.northwind).json"),
            atomically: true,
            encoding: .utf8
        )

        let setup = try await Setup(policies: policies.path)
        do {
            let token = try await setup.token(tenant: Self.northwind)
            let defaultSettings = "\(Self.graphPath)/default"
            let before = try await setup.call("GET", defaultSettings, token: token)
            #expect(before.json["isServiceDefault"] as? Bool == false)
            let isolation =
                "/providers/PowerPlatform.Governance/v1/tenants/\(Self.northwind)/tenantIsolationPolicy?api-version=2020-10-01"
            let body =
                #"{"properties":{"tenantId":"\#(Self.northwind)","isDisabled":false,"allowedTenants":[]}}"#
            #expect(try await setup.call("PUT", isolation, token: token, body: body).status == 200)

            #expect(try await setup.call("GET", defaultSettings, token: token).body == before.body)
            let kept = try String(
                contentsOf: setup.directory.appendingPathComponent("\(Self.northwind).json"),
                encoding: .utf8
            )
            #expect(kept == settings)
            let created = try String(
                contentsOf: setup.directory.appendingPathComponent("\(Self.northwind)-2.json"),
                encoding: .utf8
            )
            #expect(created.contains(#""isDisabled""#))
            #expect(try await setup.call("GET", isolation, token: token).status == 200)
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    /// A disk that is always full (`/dev/full`): an admin change whose audit line cannot be written answers 503 and
    /// changes nothing, in force or on disk; an exchange is answered 503 and gets no token.
    @Test func aChangeThatCannotBeAuditedDoesNotHappen() async throws {
        let setup = try await Setup(auditLogPath: "/dev/full")
        do {
            let token = try await setup.token(roles: [Self.powerPlatformAdministrator])
            let before = try await setup.call("GET", Self.isolationPath, token: token)
            let files = try FileManager.default.contentsOfDirectory(atPath: setup.directory.path).sorted()
            let contents = try files.map {
                try String(contentsOf: setup.directory.appendingPathComponent($0), encoding: .utf8)
            }
            let rules = "/providers/PowerPlatform.Governance/v1/tenants/\(Self.contoso)/tenantIsolationPolicy/rules"
            let added = try await setup.call(
                "POST",
                rules,
                token: token,
                body: #"{"tenant":"northwind.onmicrosoft.com","direction":"outbound"}"#
            )
            #expect(added.status == 503, "\(added.body)")
            let after = try await setup.call("GET", Self.isolationPath, token: token)
            #expect(after.body == before.body, "the policy in force is unchanged")
            #expect(after.headers["etag"] == before.headers["etag"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: setup.directory.path).sorted() == files)
            #expect(
                try files.map { try String(contentsOf: setup.directory.appendingPathComponent($0), encoding: .utf8) }
                    == contents,
                "nothing changed on disk"
            )
            let exchange = try await setup.harness.tokenRequest(
                creator: Self.contoso,
                path: "/\(Self.fabrikam)/oauth2/v2.0/token"
            )
            #expect(exchange.status == 503)
            #expect(!exchange.body.contains("access_token"))
        } catch {
            await setup.stop()
            throw error
        }
        await setup.stop()
    }

    /// A change to a tenant of thousands of rules: its `policy_change` line carries the documents' digests and what
    /// changed, short enough for every sink, and a SIEM gets it whole (review 32: a line of 2 MiB reached syslog and
    /// OTLP as three fragments, none of them an event).
    @Test func aChangeToALargePolicyIsAuditedInALineEverySinkTakes() async throws {
        let policies = FileManager.default.temporaryDirectory.appendingPathComponent("large-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: policies, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: policies) }
        for name in try FileManager.default.contentsOfDirectory(atPath: ProxyEndToEndTests.policies)
        where name.hasSuffix(".yaml") {
            try FileManager.default.copyItem(
                atPath: "\(ProxyEndToEndTests.policies)/\(name)",
                toPath: policies.appendingPathComponent(name).path
            )
        }
        let contoso = policies.appendingPathComponent("contoso.yaml")
        let rules = (0..<4000).map { _ in "    - tenant: \(UUID().uuidString.lowercased())\n      direction: both\n" }
        try (String(contentsOf: contoso, encoding: .utf8) + rules.joined()).write(
            to: contoso,
            atomically: true,
            encoding: .utf8
        )
        try await Self.with(policies: policies.path) { setup in
            let added = try await setup.call(
                "POST",
                "/providers/PowerPlatform.Governance/v1/tenants/\(Self.contoso)/tenantIsolationPolicy/rules",
                token: try await setup.token(roles: [Self.powerPlatformAdministrator]),
                body: #"{"tenant":"\#(Self.northwind)","direction":"outbound"}"#
            )
            #expect(added.status == 201)
            let line = try #require(setup.harness.auditLines().first { $0.contains(#""event":"policy_change""#) })
            #expect(line.utf8.count < 256 << 10, "\(line.utf8.count) bytes")
            let change = ProxyEndToEndTests.auditObject(line)
            #expect(change["documents"] as? String == "summarized")
            #expect(((change["before"] as? [String: Any])?["bytes"] as? Int ?? 0) > 256 << 10)
            #expect((change["after"] as? [String: Any])?["sha256"] as? String != nil)
            let changes = change["changes"] as? [[String: Any]] ?? []
            #expect(changes.map { $0["member"] as? String } == ["properties.allowedTenants"], "\(changes)")
            let rule = (changes.first?["added"] as? [[String: Any]])?.first
            #expect(rule?["tenantId"] as? String == Self.northwind.description, "\(changes)")
            #expect((changes.first?["removed"] as? [Any])?.isEmpty == true)

            // Shipped as the line it is.
            let otlp = try await OTLPReceiver(refusingFirst: 0)
            defer { otlp.stop() }
            let shipper = try ShipProcess(
                arguments: [
                    "ship", "--audit-log", setup.harness.auditPath, "--ship",
                    "otlp+http://127.0.0.1:\(otlp.port)/v1/logs",
                ],
                log: setup.directory.appendingPathComponent("ship.log").path
            )
            defer { shipper.kill9() }
            #expect(try await ShippingEndToEndTests.eventually(20) { !otlp.records().isEmpty })
            #expect(otlp.records().map { $0.object["body"] as? String } == [line])
        }
    }

    @Test func rulesAreAddedByDomainChangedAndDeleted() async throws {
        try await Self.with { setup in
            let token = try await setup.token(roles: [Self.powerPlatformAdministrator])
            let rules = "/providers/PowerPlatform.Governance/v1/tenants/\(Self.contoso)/tenantIsolationPolicy/rules"
            let added = try await setup.call(
                "POST",
                rules,
                token: token,
                body: #"{"tenant":"northwind.onmicrosoft.com","direction":"outbound"}"#
            )
            #expect(added.status == 201)
            #expect(added.json["tenantId"] as? String == Self.northwind.description)
            #expect(added.json["domain"] as? String == "northwind.onmicrosoft.com")
            #expect(try await setup.exchange(Self.northwind) == 200)

            let duplicate = try await setup.call(
                "POST",
                rules,
                token: token,
                body: #"{"tenant":"\#(Self.northwind)","direction":"both"}"#
            )
            #expect(duplicate.status == 409)
            let unknown = try await setup.call(
                "POST",
                rules,
                token: token,
                body: #"{"tenant":"nowhere.example","direction":"both"}"#
            )
            #expect(unknown.status == 404)

            let retarget = try await setup.call(
                "PATCH",
                "\(rules)/\(Self.northwind)",
                token: token,
                body: #"{"tenant":"\#(Self.adatum)","direction":"both"}"#
            )
            #expect(retarget.status == 400)
            let inbound = try await setup.call(
                "PATCH",
                "\(rules)/\(Self.northwind)",
                token: token,
                body: #"{"direction":"inbound"}"#
            )
            #expect(inbound.status == 200)
            #expect(inbound.json["direction"] as? String == "inbound")
            #expect(try await setup.exchange(Self.northwind) == 403)

            #expect(try await setup.call("DELETE", "\(rules)/northwind.onmicrosoft.com", token: token).status == 204)
            #expect(try await setup.call("DELETE", "\(rules)/\(Self.northwind)", token: token).status == 404)
            let list = try await setup.call("GET", rules, token: token)
            #expect((list.json["value"] as? [Any])?.count == 2)
        }
    }

    @Test func graphCrossTenantAccessEndpoints() async throws {
        try await Self.with { setup in
            let token = try await setup.token(roles: [Self.securityAdministrator])
            let policy = try await setup.call("GET", Self.graphPath, token: token)
            #expect(policy.status == 200)
            #expect((policy.json["default"] as? [String: Any])?["isServiceDefault"] as? Bool == true)

            let blockAll =
                #"{"b2bCollaborationOutbound":{"usersAndGroups":{"accessType":"blocked","targets":[{"target":"AllUsers","targetType":"user"}]},"applications":{"accessType":"blocked","targets":[{"target":"AllApplications","targetType":"application"}]}}}"#
            #expect(
                try await setup.call("PATCH", "\(Self.graphPath)/default", token: token, body: blockAll).status == 204
            )
            let changed = try await setup.call("GET", "\(Self.graphPath)/default", token: token)
            #expect(changed.json["isServiceDefault"] as? Bool == false)
            #expect(
                try await setup.call("POST", "\(Self.graphPath)/default/resetToSystemDefault", token: token).status
                    == 204
            )
            #expect(
                try await setup.call("GET", "\(Self.graphPath)/default", token: token).json["isServiceDefault"] as? Bool
                    == true
            )

            // A partner whose tenant restrictions block everything: Contoso's next Fabrikam sign-in is refused.
            let partner =
                #"{"tenantId":"\#(Self.fabrikam)","tenantRestrictions":{"usersAndGroups":{"accessType":"blocked","targets":[{"target":"AllUsers","targetType":"user"}]},"applications":{"accessType":"blocked","targets":[{"target":"AllApplications","targetType":"application"}]}}}"#
            let created = try await setup.call("POST", "\(Self.graphPath)/partners", token: token, body: partner)
            #expect(created.status == 201)
            #expect(created.json["tenantId"] as? String == Self.fabrikam.description)
            #expect(try await setup.exchange(Self.fabrikam) == 403)
            #expect(
                try await setup.call("POST", "\(Self.graphPath)/partners", token: token, body: partner).status == 409
            )

            let read = try await setup.call("GET", "\(Self.graphPath)/partners/\(Self.fabrikam)", token: token)
            #expect(read.status == 200)
            let etag = try #require(read.headers["etag"])
            #expect(
                try await setup.call(
                    "PATCH",
                    "\(Self.graphPath)/partners/\(Self.fabrikam)",
                    token: token,
                    body: #"{"tenantRestrictions":null}"#,
                    ifMatch: "\"stale\""
                ).status == 412
            )
            #expect(
                try await setup.call(
                    "PATCH",
                    "\(Self.graphPath)/partners/\(Self.fabrikam)",
                    token: token,
                    body: #"{"tenantRestrictions":null}"#,
                    ifMatch: etag
                ).status == 204
            )
            #expect(try await setup.exchange(Self.fabrikam) == 200)

            let conflicting =
                #"{"b2bCollaborationInbound":{"usersAndGroups":{"accessType":"blocked","targets":[{"target":"AllUsers","targetType":"user"}]},"applications":{"accessType":"allowed","targets":[{"target":"AllApplications","targetType":"application"}]}}}"#
            let invalid = try await setup.call(
                "PATCH",
                "\(Self.graphPath)/partners/\(Self.fabrikam)",
                token: token,
                body: conflicting
            )
            #expect(invalid.status == 400)
            #expect((invalid.json["error"] as? [String: Any])?["code"] as? String == "Request_BadRequest")

            #expect(
                try await setup.call("DELETE", "\(Self.graphPath)/partners/\(Self.fabrikam)", token: token).status
                    == 204
            )
            let gone = try await setup.call("GET", "\(Self.graphPath)/partners/\(Self.fabrikam)", token: token)
            #expect(gone.status == 404)
            #expect((gone.json["error"] as? [String: Any])?["code"] as? String == "Request_ResourceNotFound")
            #expect(
                try await setup.call("GET", "\(Self.graphPath)/partners", token: token).json["value"] as? [Any] != nil
            )
        }
    }

    @Test func aFileEditIsEnforcedOnTheNextExchanges() async throws {
        try await Self.with { setup in
            #expect(try await setup.exchange(Self.northwind) == 403)
            let path = setup.directory.appendingPathComponent("contoso.yaml").path
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try text.replacingOccurrences(
                of: "rules:",
                with: "rules:\n    - {tenant: \(Self.northwind), direction: outbound}"
            )
            .write(toFile: path, atomically: true, encoding: .utf8)
            // The watcher polls every 200 ms: bounded wait, at most 25 tries.
            var status = 0
            for _ in 0..<25 {
                status = try await setup.exchange(Self.northwind)
                if status == 200 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(status == 200)
        }
    }
}
