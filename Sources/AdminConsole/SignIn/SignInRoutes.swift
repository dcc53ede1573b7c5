import AdminAPI
import EntraAuth
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import Plumbing
import TokenInspection

/// OpenID Connect sign-in (authorization code flow with PKCE, `state` and `nonce`) and sign-out.
extension AdminConsole {
    /// The short-lived cookie naming this browser's sign-in attempt.
    static let attemptCookie = "tenantgate_signin"
    static let callbackPath = "/console/signin/callback"

    func addSignInRoutes(to console: RouterGroup<AdminRequestContext>) {
        console.get("/signin") { request, context in await startSignIn(request, context) }
        console.get("/signin/callback") { request, context in await finishSignIn(request, context) }
        console.post("/signout") { request, context in try await signOut(request, context) }
    }

    /// Sends the browser to Entra. A session of this browser stays as it is: a GET is not a sign-out (another site
    /// could make a browser send it), and the session that sign-in creates gets a new ID anyway.
    private func startSignIn(_ request: Request, _ context: AdminRequestContext) async -> Response {
        let endpoints: OpenIDProvider.Endpoints
        do {
            endpoints = try await provider.current()
        } catch {
            logger.error("console sign-in unavailable", metadata: ["error": "\(error)"])
            return failure(error)
        }
        let scheme = secureCookies ? "https" : "http"
        // The configured public URL when there is one; otherwise the Host header (Entra accepts only the
        // redirect URIs registered for the application, so a forged Host cannot carry the code elsewhere).
        let base =
            configuration.publicURL.map {
                $0.absoluteString.hasSuffix("/") ? String($0.absoluteString.dropLast()) : $0.absoluteString
            }
            ?? "\(scheme)://\(request.head.authority ?? "127.0.0.1")"
        let requested = Self.query(request)["return"] ?? "/console"
        // Only a console path: never an open redirect to another site (`//host`, `/\host`, a scheme).
        let returnTo =
            requested.hasPrefix("/console") && !requested.contains("//") && !requested.contains("\\")
            ? requested : "/console"
        let (id, attempt) = await attempts.start(
            redirectURI: base + Self.callbackPath,
            returnTo: returnTo,
            source: context.clientAddress ?? "unknown"
        )
        var components = URLComponents(url: endpoints.authorization, resolvingAgainstBaseURL: false)
        let existing = components?.queryItems ?? []
        components?.queryItems =
            existing + [
                URLQueryItem(name: "client_id", value: configuration.clientID),
                URLQueryItem(name: "response_type", value: "code"),
                URLQueryItem(name: "response_mode", value: "query"),
                URLQueryItem(name: "redirect_uri", value: attempt.redirectURI),
                URLQueryItem(name: "scope", value: "openid profile"),
                URLQueryItem(name: "state", value: attempt.state),
                URLQueryItem(name: "nonce", value: attempt.nonce),
                URLQueryItem(name: "code_challenge", value: RandomToken.challenge(of: attempt.codeVerifier)),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
                URLQueryItem(name: "prompt", value: "select_account"),
            ]
        var response = Self.redirect(to: components?.url?.absoluteString ?? endpoints.authorization.absoluteString)
        response.setCookie(
            Cookie(
                name: Self.attemptCookie,
                value: id,
                maxAge: Int(SignInAttempts.lifetime),
                path: "/console/signin",
                secure: secureCookies,
                httpOnly: true,
                sameSite: .lax
            )
        )
        return response
    }

    /// Entra's answer: this browser's attempt, its `state`, the code redeemed with the PKCE verifier, the ID token
    /// verified as admin tokens are (signature, issuer of its own tenant, audience, lifetime) and its `nonce`.
    private func finishSignIn(_ request: Request, _ context: AdminRequestContext) async -> Response {
        let query = Self.query(request)
        var response: Response
        do throws(ConsoleSignInError) {
            guard let id = request.cookies[Self.attemptCookie]?.value, let attempt = await attempts.finish(id: id),
                let state = query["state"], ConstantTime.equal(state, attempt.state)
            else { throw .expired }
            if let error = query["error"] {
                throw .denied(query["error_description"].map { String($0.prefix(300)) } ?? error)
            }
            guard let code = query["code"], !code.isEmpty else { throw .codeRefused("the answer carries no code") }
            let principal = try await redeem(code: code, attempt: attempt)
            guard AdminArea.allCases.contains(where: principal.mayWork) else { throw .noConsoleRole }
            guard policyAPI.admits(principal.tenant) else { throw .notAnAdministeredTenant }
            context.sessions.setSession(ConsoleSession(principal: principal, csrfToken: RandomToken.make()))
            logger.notice(
                "console sign-in",
                metadata: [
                    "tenant": "\(principal.tenant)", "user": "\(principal.objectID ?? "-")",
                    "roles": "\(principal.roles.map(\.description).sorted().joined(separator: ", "))",
                ]
            )
            response = Self.redirect(to: attempt.returnTo)
        } catch {
            logger.warning("console sign-in refused", metadata: ["reason": "\(error)"])
            response = failure(error)
        }
        response.setCookie(
            Cookie(
                name: Self.attemptCookie,
                value: "",
                maxAge: 0,
                path: "/console/signin",
                secure: secureCookies,
                httpOnly: true,
                sameSite: .lax
            )
        )
        return response
    }

    private func redeem(
        code: String,
        attempt: SignInAttempts.Attempt
    ) async throws(ConsoleSignInError)
        -> AdminPrincipal
    {
        let endpoints = try await provider.current()
        let answer: EntraHTTP.Answer
        do {
            answer = try await EntraHTTP.postForm(
                endpoints.token,
                [
                    ("grant_type", "authorization_code"), ("client_id", configuration.clientID), ("code", code),
                    ("redirect_uri", attempt.redirectURI), ("code_verifier", attempt.codeVerifier),
                    ("scope", "openid profile"),
                ]
            )
        } catch {
            throw .providerUnavailable("the token endpoint \(error.description)")
        }
        let document = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any]
        guard answer.status == 200, let idToken = document?["id_token"] as? String else {
            let reason = (document?["error"] as? String) ?? "HTTP \(answer.status)"
            throw .codeRefused("the token endpoint answered \(reason)")
        }
        switch await endpoints.verifier.verify(idToken) {
        case .failure(let failure):
            throw .tokenRefused(failure.description)
        case .success(let verified):
            guard let nonce = verified.nonce, ConstantTime.equal(nonce, attempt.nonce) else {
                throw .tokenRefused("its nonce is not this sign-in's")
            }
            return AdminPrincipal(verified)
        }
    }

    /// Ends the session; a form post with the session's CSRF token, so another site cannot sign anyone out.
    /// Without a session nothing is read: the body of a caller who is nobody is not worth waiting for.
    private func signOut(_ request: Request, _ context: AdminRequestContext) async throws -> Response {
        let refusal = renderer.message(
            heading: "Not signed out",
            text: "The sign-out did not come from this console's page.",
            link: ("/console", "Back to the console"),
            status: .forbidden
        )
        guard let session = context.sessions.session else { return refusal }
        let body = try await request.body.collect(upTo: 4096)
        guard session.acceptsCSRFToken(FormText.fields(String(buffer: body))["csrf"]) else { return refusal }
        context.sessions.clearSession()
        return renderer.message(
            heading: "Signed out",
            text: "You are signed out of the TenantGate console.",
            link: ("/console/signin", "Sign in again"),
            status: .ok
        )
    }

    private func failure(_ error: ConsoleSignInError) -> Response {
        renderer.message(
            heading: error.httpStatus == 403 ? "Access denied" : "Sign-in failed",
            text: error.description,
            link: ("/console/signin", "Sign in again"),
            status: HTTPResponse.Status(code: error.httpStatus)
        )
    }
}
