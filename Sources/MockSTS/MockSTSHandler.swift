import Foundation
import NIOCore
import NIOHTTP1
import Plumbing
import TenantPolicy

/// Answers one request of the mock STS: Entra v1/v2 token endpoints, the Azure DevOps token endpoint, `/healthz`,
/// and the resource hosts it plays (`MockResources`).
final class MockSTSHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOHTTPServerRequestFull
    typealias OutboundOut = HTTPServerResponsePart

    private let box: MockSTSBox
    /// `https`, or `http` on the plain listener a browser reaches without trusting the mock's CA.
    private let scheme: String

    init(box: MockSTSBox, scheme: String) {
        self.box = box
        self.scheme = scheme
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        guard let sts = box.sts.withLock({ $0 }) else { return }
        let hostHeader = (request.head.headers.first(name: "host") ?? "").lowercased()
        let host = hostHeader.split(separator: ":").first.map(String.init) ?? ""
        // Behind the proxy the mock plays Entra's own host; on the plain listener it names itself with its port.
        let origin = scheme == "http" ? "http://\(hostHeader)" : "https://\(host)"
        let target = Self.originForm(request.head.uri)
        let path = Self.normalised(String(target.prefix { $0 != "?" }))
        let query = Self.form(target.contains("?") ? String(target.drop { $0 != "?" }.dropFirst()) : "")
        let form = Self.form(request.body.map { String(buffer: $0) } ?? "")
        let answer: EventLoopFuture<MockAnswer>
        let segments = path.split(separator: "/").map(String.init)
        if path == "/healthz" {
            answer = context.eventLoop.makeSucceededFuture(MockAnswer(.ok, #"{"status":"ok"}"#))
        } else if request.head.method == .GET, segments.count == 4, segments[1] == "v2.0",
            segments[2] == ".well-known", segments[3] == "openid-configuration"
        {
            answer = context.eventLoop.makeSucceededFuture(
                MockTokenMinter(sts: sts).openIDConfiguration(host: host, origin: origin, segment: segments[0])
            )
        } else if path.hasSuffix("/discovery/v2.0/keys") {
            answer = context.eventLoop.makeSucceededFuture(MockAnswer(.ok, sts.jwksJSON))
        } else if path == "/mock/headers" {
            // What reached the STS, so tests can see headers a proxy added, replaced or dropped.
            var received: [String: [String]] = [:]
            for (name, value) in request.head.headers { received[name.lowercased(), default: []].append(value) }
            let data =
                (try? JSONSerialization.data(withJSONObject: received, options: [.sortedKeys])) ?? Data("{}".utf8)
            answer = context.eventLoop.makeSucceededFuture(MockAnswer(.ok, String(decoding: data, as: UTF8.self)))
        } else if host == "app.vssps.visualstudio.com", request.head.method == .POST,
            segments == ["oauth2", "token"] || segments == ["_apis", "token", "sessiontokens"]
        {
            // Its token endpoint, and its session-token API, which hands over a token as well.
            sts.count("ado")
            let sessionToken = segments.first == "_apis"
            answer = promise(context) { try await MockTokenMinter(sts: sts).azureDevOpsResponse(session: sessionToken) }
        } else if host == "login.live.com", request.head.method == .POST, segments == ["oauth20_token.srf"] {
            sts.count("msa")
            answer = promise(context) {
                try await MockTokenMinter(sts: sts).microsoftAccountResponse(
                    scope: form["scope"] ?? "",
                    tenant: form["mock_tid"].flatMap { TenantID($0) } ?? .microsoftAccounts
                )
            }
        } else if request.head.method == .GET, segments.count == 4, segments[1] == "oauth2", segments[3] == "authorize",
            query["response_type"] == "code"
        {
            answer = context.eventLoop.makeSucceededFuture(
                MockTokenMinter(sts: sts).codeFlowAuthorize(query: query, target: origin + target)
            )
        } else if request.head.method == .GET, segments.count == 4, segments[1] == "oauth2", segments[3] == "authorize"
        {
            answer = promise(context) {
                try await MockTokenMinter(sts: sts).authorizeResponse(host: host, segment: segments[0], query: query)
            }
        } else if request.head.method == .POST, segments.count >= 3, segments[1] == "oauth2", segments.last == "token",
            segments.count == 3 || (segments.count == 4 && segments[2] == "v2.0")
        {
            sts.count(segments[0])
            let version = segments.count == 4 ? "2.0" : "1.0"
            answer = promise(context) {
                // Codes the mock issued itself are the console's sign-in; any other code is a scenario's exchange.
                if form["grant_type"] == "authorization_code",
                    form["code"]?.hasPrefix(MockAuthorizationCodes.prefix) == true
                {
                    return try await MockTokenMinter(sts: sts).redeemCode(form: form)
                }
                return try await MockTokenMinter(sts: sts).tokenResponse(
                    host: host,
                    segment: segments[0],
                    version: version,
                    form: form
                )
            }
        } else if MockFederation.serves(segments) {
            answer = context.eventLoop.makeSucceededFuture(
                MockFederation.answer(segments: segments, query: query, domains: sts.options.domains)
            )
        } else if MockResources.serves(host) {
            answer = context.eventLoop.makeSucceededFuture(
                MockResources.answer(
                    host: host,
                    path: path,
                    method: request.head.method.rawValue,
                    hasBearer: request.head.headers.contains(name: "authorization"),
                    bodyBytes: request.body?.readableBytes ?? 0
                )
            )
        } else {
            answer = context.eventLoop.makeSucceededFuture(MockAnswer(.notFound, #"{"error":"not_found"}"#))
        }
        let keepAlive = request.head.isKeepAlive
        let delay = form["mock_delay_ms"].flatMap(Int64.init).map { min(max($0, 0), 30_000) } ?? 0
        answer.assumeIsolated().whenSuccess { answer in
            var answer = answer
            if query["mock_bomb"] == "1" {
                answer.body = #"{"access_token":""# + String(repeating: "a", count: 8 << 20) + #""}"#
            }
            let write = {
                var buffer = context.channel.allocator.buffer(capacity: answer.body.utf8.count)
                buffer.writeString(answer.body)
                var headers = HTTPHeaders([
                    ("content-type", answer.contentType), ("content-length", String(buffer.readableBytes)),
                ])
                headers.add(contentsOf: answer.headers)
                if query["mock_encoding"] == "br" { headers.add(name: "content-encoding", value: "br") }
                if !keepAlive { headers.add(name: "connection", value: "close") }
                context.write(
                    self.wrapOutboundOut(
                        .head(HTTPResponseHead(version: .http1_1, status: answer.status, headers: headers))
                    ),
                    promise: nil
                )
                context.write(self.wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
                context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    if !keepAlive { context.close(promise: nil) }
                }
            }
            if delay > 0 {
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) { write() }
            } else {
                write()
            }
        }
    }

    /// The origin form of an absolute-form target (`https://host/path` → `/path`), as servers accept both.
    static func originForm(_ uri: String) -> String {
        guard uri.lowercased().hasPrefix("https://") || uri.lowercased().hasPrefix("http://") else { return uri }
        let afterScheme = uri.drop { $0 != ":" }.dropFirst(3)
        let path = afterScheme.drop { $0 != "/" && $0 != "?" }
        return path.isEmpty ? "/" : String(path)
    }

    /// Percent-decoded, dot segments removed, empty segments dropped: a lenient server's reading of a path.
    static func normalised(_ path: String) -> String {
        var kept: [Substring] = []
        let decoded = path.removingPercentEncoding ?? path
        for segment in decoded.split(separator: "/") {
            let segment = segment.prefix { $0 != ";" }
            switch segment {
            case ".", "": continue
            case "..": _ = kept.popLast()
            default: kept.append(segment)
            }
        }
        return "/" + kept.joined(separator: "/")
    }

    private func promise(
        _ context: ChannelHandlerContext,
        _ work: @escaping @Sendable () async throws -> MockAnswer
    ) -> EventLoopFuture<MockAnswer> {
        let promise = context.eventLoop.makePromise(of: MockAnswer.self)
        promise.completeWithTask {
            do { return try await work() } catch {
                return MockAnswer(.internalServerError, #"{"error":"server_error"}"#)
            }
        }
        return promise.futureResult
    }

    static func form(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ")
            }
            guard let name = parts.first?.removingPercentEncoding else { continue }
            result[name] = parts.count > 1 ? parts[1].removingPercentEncoding ?? parts[1] : ""
        }
        return result
    }
}

@available(*, unavailable)
extension MockSTSHandler: Sendable {}

/// Builds the mock's token responses.
struct MockTokenMinter {
    let sts: MockSTS

    func tokenResponse(
        host: String,
        segment: String,
        version: String,
        form: [String: String]
    ) async throws -> MockAnswer {
        if let status = form["mock_status"].flatMap(Int.init) {
            return MockAnswer(
                HTTPResponseStatus(statusCode: status),
                Self.error("invalid_grant", 70000, "AADSTS70000: mock error")
            )
        }
        let status = form["mock_answer_status"].flatMap(Int.init).map { HTTPResponseStatus(statusCode: $0) } ?? .ok
        if form["mock_token"] == "html" {
            return MockAnswer(status, "<html><body>signed in</body></html>", contentType: "text/html; charset=utf-8")
        }
        let named =
            ["common", "organizations"].contains(segment.lowercased()) ? form["mock_tid"].flatMap { TenantID($0) } : nil
        let pathTenant: TenantID? = TenantID(segment) ?? sts.options.domains[segment.lowercased()] ?? named
        guard let pathTenant else {
            return MockAnswer(
                .badRequest,
                Self.error("invalid_tenant", 90002, "AADSTS90002: Tenant '\(segment)' not found.")
            )
        }
        let tenant = form["mock_tid"].flatMap { TenantID($0) } ?? pathTenant
        let home = form["mock_home_tenant"].flatMap { TenantID($0) }
        let clientID = form["client_id"] ?? "e002ab83-2360-4092-bd0b-5a4c52f2f15a"
        let issuerHost =
            form["mock_issuer_host"] ?? (host == "login.chinacloudapi.cn" ? "login.partner.microsoftonline.cn" : host)
        let issuer = version == "2.0" ? "https://\(issuerHost)/\(tenant)/v2.0" : "https://sts.windows.net/\(tenant)/"
        let idp = home.map { "https://sts.windows.net/\($0)/" }
        let oid = form["mock_oid"].map { String($0.prefix(64)) } ?? UUID().uuidString.lowercased()
        let groups = form["mock_groups"].map { $0.split(separator: ",").map(String.init) }
        let now = Int(Date().timeIntervalSince1970)
        var claims = MockTokenClaims(
            tid: tenant.description,
            iss: issuer,
            idp: idp,
            oid: oid,
            aud: "00000003-0000-0000-c000-000000000000",
            clientID: clientID,
            version: version,
            groups: groups,
            now: now
        )
        if form["mock_groups_overage"] == "1" { claims.makeGroupsOverage() }
        var accessToken = try await sts.mintToken(claims)
        var idToken: String? = try await sts.mintToken(claims)
        switch form["mock_token"] {
        case "malformed":
            accessToken = "eyJhbGciOi.not-base64!.x"
            idToken = "garbage"
        case "opaque":
            accessToken = "EwBwA8l6BAAU" + String(repeating: "x", count: 40)
            idToken = nil
        default:
            break
        }
        let clientInfo = Data(#"{"uid":"\#(oid)","utid":"\#(home ?? tenant)"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(
                of: "/",
                with: "_"
            )
        var body: [String: Any] = [
            "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": accessToken,
            "refresh_token": "0.AAAA" + UUID().uuidString, "client_info": clientInfo,
        ]
        if let idToken { body["id_token"] = idToken }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var text = String(decoding: data, as: UTF8.self)
        if form["mock_token"] == "duplicate" {
            // A member twice: a strict reader refuses it, a lenient one (Python's json) takes the last.
            text = #"{"access_token":"\#(accessToken)","# + text.dropFirst()
        }
        return MockAnswer(status, text)
    }

    /// The implicit flow's answer: an ID token of `mock_tid` (or the path's tenant) in a `form_post` page or in the
    /// fragment of a redirect.
    func authorizeResponse(host: String, segment: String, query: [String: String]) async throws -> MockAnswer {
        guard let tenant = query["mock_tid"].flatMap({ TenantID($0) }) ?? TenantID(segment) else {
            return MockAnswer(
                .badRequest,
                Self.error("invalid_tenant", 90002, "AADSTS90002: Tenant '\(segment)' not found.")
            )
        }
        // Entra's ID token names its application only in `aud`, and carries `oid` only for the `profile` scope.
        let scopes = (query["scope"] ?? "").split(whereSeparator: { $0 == " " || $0 == "+" })
        let oid = scopes.contains("profile") ? query["mock_oid"] ?? UUID().uuidString.lowercased() : nil
        var claims = MockTokenClaims(
            tid: tenant.description,
            iss: "https://\(host)/\(tenant)/v2.0",
            oid: oid,
            aud: query["client_id"] ?? "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
            clientID: query["client_id"] ?? "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
            version: "2.0",
            now: Int(Date().timeIntervalSince1970)
        )
        claims.azp = nil
        let idToken = try await sts.mintToken(claims)
        let redirect = query["redirect_uri"] ?? "https://app.example/callback"
        if query["response_mode"] == "form_post" {
            let page = """
                <html><body onload="document.forms[0].submit()"><form method="POST" action="\(redirect)">\
                <input type="hidden" name="id_token" value="\(idToken)"/><input type="hidden" name="state" value="s1"/>\
                </form></body></html>
                """
            return MockAnswer(.ok, page, contentType: "text/html; charset=utf-8")
        }
        return MockAnswer(.found, "", headers: [("location", "\(redirect)#id_token=\(idToken)&state=s1")])
    }

    /// Tenant discovery, as OAuth libraries (MSAL) and the console read it before their first request. For
    /// `organizations` and `common` the issuer is Entra's template with `{tenantid}`, as the real documents have it.
    func openIDConfiguration(host: String, origin: String, segment: String) -> MockAnswer {
        let multiTenant = ["organizations", "common"].contains(segment.lowercased())
        guard
            let tenant = multiTenant
                ? "{tenantid}" : (TenantID(segment) ?? sts.options.domains[segment.lowercased()])?.description
        else {
            return MockAnswer(
                .badRequest,
                Self.error("invalid_tenant", 90002, "AADSTS90002: Tenant '\(segment)' not found.")
            )
        }
        // The endpoints keep the segment as asked (a domain stays a domain), the issuer names the GUID. The
        // multi-tenant template names the host that serves the document, as Entra's does (a client compares them).
        let base = "\(origin)/\(segment)"
        let body: [String: Any] = [
            "issuer": multiTenant ? "\(origin)/\(tenant)/v2.0" : "https://\(host)/\(tenant)/v2.0",
            "token_endpoint": "\(base)/oauth2/v2.0/token",
            "authorization_endpoint": "\(base)/oauth2/v2.0/authorize",
            "jwks_uri": "\(origin)/\(multiTenant ? segment : tenant)/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "response_types_supported": ["code", "id_token", "code id_token"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
        ]
        let data =
            (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
        return MockAnswer(.ok, String(decoding: data, as: UTF8.self))
    }

    /// Its OAuth token endpoint's answer, or with `session` its session-token API's: a `SessionToken` whose token is
    /// the member `token` (Azure DevOps' `ISessionToken`), not OAuth's `access_token`.
    func azureDevOpsResponse(session: Bool) async throws -> MockAnswer {
        let now = Int(Date().timeIntervalSince1970)
        let claims = MockTokenClaims(
            tid: sts.options.azureDevOpsTenant.description,
            iss: "app.vstoken.visualstudio.com",
            oid: UUID().uuidString.lowercased(),
            aud: "app.vstoken.visualstudio.com|vso:6f6a4c5b",
            clientID: "ado-app",
            version: "1.0",
            now: now
        )
        let token = try await sts.mintToken(claims)
        let body: [String: Any] =
            session
            ? [
                "authorizationId": UUID().uuidString.lowercased(), "displayName": "connector", "scope": "vso.code",
                "validTo": "2026-12-31T00:00:00Z", "targetAccounts": NSNull(), "alternateToken": NSNull(),
                "token": token,
            ]
            : [
                "access_token": token, "token_type": "jwt-bearer", "expires_in": "3599",
                "refresh_token": "ado-refresh-" + UUID().uuidString,
            ]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return MockAnswer(.ok, String(decoding: data, as: UTF8.self))
    }

    /// The Microsoft account STS's token answer: an opaque access token and refresh token, and, when the scope names
    /// `openid`, an ID token in the v2 format of the personal-accounts tenant (`mock_tid`: of another tenant).
    func microsoftAccountResponse(scope: String, tenant: TenantID) async throws -> MockAnswer {
        var body: [String: Any] = [
            "token_type": "bearer", "expires_in": 3600, "scope": scope,
            "access_token": "EwB4A8l6BAAU" + String(repeating: "x", count: 64), "refresh_token": "M.C105_BAY.0.U.-x",
            "user_id": "4b2e1e5e2a6f0c3d",
        ]
        if scope.split(separator: " ").contains("openid") {
            body["id_token"] = try await microsoftAccountIDToken(tenant: tenant.description)
        }
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return MockAnswer(.ok, String(decoding: data, as: UTF8.self))
    }

    private func microsoftAccountIDToken(tenant: String) async throws -> String {
        try await sts.mintToken(
            MockTokenClaims(
                tid: tenant,
                iss: "https://login.microsoftonline.com/\(tenant)/v2.0",
                oid: "00000000-0000-0000-4b2e-1e5e2a6f0c3d",
                aud: "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
                clientID: "e002ab83-2360-4092-bd0b-5a4c52f2f15a",
                version: "2.0",
                now: Int(Date().timeIntervalSince1970)
            )
        )
    }

    static func error(_ error: String, _ code: Int, _ description: String) -> String {
        #"{"error":"\#(error)","error_description":"\#(description)","error_codes":[\#(code)],"trace_id":"\#(UUID().uuidString.lowercased())","correlation_id":"\#(UUID().uuidString.lowercased())"}"#
    }
}

/// One answer of the mock: status, body, content type and extra headers.
struct MockAnswer: Sendable {
    var status: HTTPResponseStatus
    var body: String
    var contentType = "application/json; charset=utf-8"
    var headers: [(String, String)] = []

    init(
        _ status: HTTPResponseStatus,
        _ body: String,
        contentType: String = "application/json; charset=utf-8",
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }
}
