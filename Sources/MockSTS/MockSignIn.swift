import Foundation
import NIOHTTP1
import TenantPolicy

extension MockSTS {
    /// An admin API token of a mock console user, as an administrator's script would hold it.
    package func adminToken(for user: MockConsoleUser, audience: String) async throws -> String {
        var claims = MockTokenClaims(
            tid: user.tenant.description,
            iss: "https://login.microsoftonline.com/\(user.tenant)/v2.0",
            oid: MockTokenMinter.objectID(of: user),
            aud: audience,
            clientID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            version: "2.0",
            wids: user.roleTemplateIDs,
            now: Int(Date().timeIntervalSince1970)
        )
        claims.name = user.name
        claims.preferredUsername = user.username
        return try await mintToken(claims)
    }
}

/// The authorization code flow with PKCE, as Entra runs it for a web app's sign-in: an account picker instead of a
/// password page, a code bound to the request, and an ID token carrying the nonce, name and directory roles.
extension MockTokenMinter {
    /// `GET /{tenant}/oauth2/v2.0/authorize?response_type=code&...`: the account picker, or with `mock_user` the
    /// redirect back with a code. PKCE (S256) is required, as it is for the console.
    func codeFlowAuthorize(query: [String: String], target: String) -> MockAnswer {
        guard let clientID = query["client_id"], let redirect = query["redirect_uri"],
            let challenge = query["code_challenge"], query["code_challenge_method"] == "S256"
        else {
            return MockAnswer(
                .badRequest,
                Self.error(
                    "invalid_request",
                    900144,
                    "AADSTS900144: client_id, redirect_uri and an S256 code_challenge are required."
                )
            )
        }
        guard let key = query["mock_user"] else { return accountPicker(target: target) }
        guard let user = sts.options.consoleUsers.first(where: { $0.key == key }) else {
            return MockAnswer(.badRequest, Self.error("invalid_request", 50034, "AADSTS50034: no such account."))
        }
        let code = sts.codes.issue(
            .init(
                user: user,
                clientID: clientID,
                redirectURI: redirect,
                codeChallenge: challenge,
                nonce: query["nonce"],
                issuedAt: Date()
            )
        )
        var fields = [("code", code)]
        if let state = query["state"] { fields.append(("state", state)) }
        let separator = redirect.contains("?") ? "&" : "?"
        return MockAnswer(.found, "", headers: [("location", redirect + separator + Self.formEncoded(fields))])
    }

    /// `grant_type=authorization_code`: redeems the code once and answers the ID token.
    func redeemCode(form: [String: String]) async throws -> MockAnswer {
        let result = sts.codes.redeem(
            code: form["code"] ?? "",
            clientID: form["client_id"],
            redirectURI: form["redirect_uri"],
            verifier: form["code_verifier"]
        )
        let grant: MockAuthorizationCodes.Grant
        switch result {
        case .success(let found):
            grant = found
        case .failure(.wrongVerifier):
            return MockAnswer(
                .badRequest,
                Self.error(
                    "invalid_grant",
                    501481,
                    "AADSTS501481: The Code_Verifier does not match the code_challenge."
                )
            )
        case .failure:
            return MockAnswer(
                .badRequest,
                Self.error("invalid_grant", 70008, "AADSTS70008: The provided authorization code is invalid.")
            )
        }
        var claims = MockTokenClaims(
            tid: grant.user.tenant.description,
            iss: "https://login.microsoftonline.com/\(grant.user.tenant)/v2.0",
            oid: Self.objectID(of: grant.user),
            aud: grant.clientID,
            clientID: grant.clientID,
            version: "2.0",
            wids: grant.user.roleTemplateIDs,
            now: Int(Date().timeIntervalSince1970)
        )
        claims.name = grant.user.name
        claims.preferredUsername = grant.user.username
        claims.nonce = grant.nonce
        let body: [String: Any] = [
            "token_type": "Bearer", "expires_in": 3599, "scope": "openid profile",
            "id_token": try await sts.mintToken(claims), "access_token": "mock-access-" + UUID().uuidString,
        ]
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        return MockAnswer(.ok, String(decoding: data, as: UTF8.self))
    }

    private func accountPicker(target: String) -> MockAnswer {
        let items = sts.options.consoleUsers.map { user in
            let link = target + "&mock_user=" + user.key
            return """
                <li><a id="user-\(user.key)" href="\(Self.escaped(link))"><strong>\(Self.escaped(user.name))</strong>
                <span>\(Self.escaped(user.username)) · \(Self.escaped(user.roleDescription))</span></a></li>
                """
        }
        let page = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>
            <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}
            li{list-style:none;margin:.5rem 0}a{display:block;padding:.75rem;border:1px solid #8a8886;border-radius:4px;
            color:#201f1e;text-decoration:none}a:hover,a:focus{background:#f3f2f1}span{display:block;color:#605e5c}</style>
            </head><body><h1>Pick an account</h1><p>Mock Microsoft Entra sign-in (TenantGate test STS).</p>
            <ul>\(items.joined())</ul></body></html>
            """
        return MockAnswer(.ok, page, contentType: "text/html; charset=utf-8")
    }

    /// A stable object ID per account, so that audit lines name the same user on every sign-in.
    static func objectID(of user: MockConsoleUser) -> String {
        let digest = MockAuthorizationCodes.challenge(of: user.username + user.tenant.description)
        let hex = digest.unicodeScalars.map { String($0.value % 16, radix: 16) }.joined()
        let characters = Array(hex.prefix(32))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    static func formEncoded(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? "") + "="
                + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
