import EntraAuth
import Foundation

/// The console's identity provider, from its OpenID configuration: where to send the browser, where to redeem the
/// code, and a verifier for its ID tokens (the same `EntraTokenVerifier` that checks admin API tokens).
actor OpenIDProvider {
    struct Endpoints: Sendable {
        let authorization: URL
        let token: URL
        let verifier: EntraTokenVerifier
    }

    private let configuration: ConsoleConfiguration
    private var endpoints: Endpoints?

    init(configuration: ConsoleConfiguration) {
        self.configuration = configuration
    }

    /// Reads the configuration on first use and keeps it; a failure is retried on the next sign-in.
    func current() async throws(ConsoleSignInError) -> Endpoints {
        if let endpoints { return endpoints }
        let discoveryURL = configuration.issuer.appendingPathComponent(".well-known/openid-configuration")
        let answer: EntraHTTP.Answer
        do {
            answer = try await EntraHTTP.get(discoveryURL)
        } catch {
            throw .providerUnavailable("\(discoveryURL.absoluteString) \(error.description)")
        }
        guard answer.status == 200,
            let document = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any],
            let issuer = document["issuer"] as? String,
            let authorization = (document["authorization_endpoint"] as? String).flatMap(URL.init(string:)),
            let token = (document["token_endpoint"] as? String).flatMap(URL.init(string:)),
            let keys = (document["jwks_uri"] as? String).flatMap(URL.init(string:))
        else {
            throw .providerUnavailable("\(discoveryURL.absoluteString) is not an OpenID configuration")
        }
        for url in [authorization, token, keys] where !EntraHTTP.isAcceptable(url) {
            throw .providerUnavailable("\(url.absoluteString) is not an https URL")
        }
        guard Self.issuer(issuer, isTheConfigured: configuration.issuer) else {
            throw .providerUnavailable(
                "\(discoveryURL.absoluteString) names the issuer \(issuer), not \(configuration.issuer.absoluteString)"
            )
        }
        // Entra's multi-tenant documents name `{tenantid}`: each token's issuer must then be its own tenant's.
        let issuers: IssuerPolicy = issuer.contains("{tenantid}") ? .entraIssuerOfTokenTenant : .oneOf([issuer])
        let verifier: EntraTokenVerifier
        do {
            verifier = try await EntraTokenVerifier(
                trust: EntraTokenTrust(keys: .url(keys), issuers: issuers, audiences: [configuration.clientID])
            )
        } catch {
            throw .providerUnavailable(error.description)
        }
        let found = Endpoints(authorization: authorization, token: token, verifier: verifier)
        endpoints = found
        return found
    }
}

extension OpenIDProvider {
    /// The issuer a configuration document names must be the one configured (OpenID Connect Discovery 1.0, 4.3),
    /// or, for Entra's multi-tenant aliases (`organizations`, `common`, `consumers`), its `{tenantid}` template on
    /// the same host and path.
    static func issuer(_ discovered: String, isTheConfigured configured: URL) -> Bool {
        let expected =
            configured.absoluteString.hasSuffix("/")
            ? String(configured.absoluteString.dropLast()) : configured.absoluteString
        let found = discovered.hasSuffix("/") ? String(discovered.dropLast()) : discovered
        if found == expected { return true }
        guard found.contains("{tenantid}") else { return false }
        return ["organizations", "common", "consumers"].contains {
            found.replacingOccurrences(of: "{tenantid}", with: $0) == expected
        }
    }
}

/// Why a console sign-in did not complete, in words safe to show: no token or secret is ever repeated.
enum ConsoleSignInError: Error, CustomStringConvertible {
    case providerUnavailable(String)
    case expired
    case denied(String)
    case codeRefused(String)
    case tokenRefused(String)
    case noConsoleRole
    case notAnAdministeredTenant

    var description: String {
        switch self {
        case .providerUnavailable(let reason): "The sign-in service could not be used: \(reason)."
        case .expired: "This sign-in expired or was already used. Start again."
        case .denied(let reason): "Microsoft Entra did not sign you in: \(reason)."
        case .codeRefused(let reason): "The sign-in could not be completed: \(reason)."
        case .tokenRefused(let reason): "The ID token was not accepted: \(reason)."
        case .notAnAdministeredTenant:
            "Your organization is not one whose administrators may use this TenantGate: it governs no policy of "
                + "your tenant. Its operator can name your tenant with --admin-tenant."
        case .noConsoleRole:
            "Your account holds no role that may use the console: Global Administrator, Power Platform "
                + "Administrator (tenant isolation) or Security Administrator (cross-tenant access)."
        }
    }

    var httpStatus: Int {
        switch self {
        case .providerUnavailable: 502
        case .expired, .codeRefused: 400
        case .denied, .tokenRefused: 401
        case .noConsoleRole, .notAnAdministeredTenant: 403
        }
    }
}
