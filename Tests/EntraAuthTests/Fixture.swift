import Foundation
import JWTKit
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

@testable import EntraAuth

/// Keys, tokens and authenticators made in the test, judged at a fixed reference time.
struct Fixture {
    /// 2027-01-15T08:00:00Z: every token is judged at this instant, not the wall clock.
    static let referenceTime = Date(timeIntervalSince1970: 1_800_000_000)
    static let contoso = TenantID("0da59725-89fe-4a2f-bf22-fd4536c9baac")!
    static let fabrikam = TenantID("8ac90d1b-d459-4375-a421-dd0005f9d0d1")!
    static let audience = "api://tenantgate-admin"
    static let keyID = "admin-key"

    static func v2Issuer(_ tenant: TenantID) -> String { "https://login.microsoftonline.com/\(tenant)/v2.0" }
    static func v1Issuer(_ tenant: TenantID) -> String { "https://sts.windows.net/\(tenant)/" }

    let key = ES256PrivateKey()
    let signers = JWTKeyCollection()

    init() async {
        await signers.add(ecdsa: key, kid: JWKIdentifier(string: Self.keyID))
    }

    /// The public half of `key` as Entra would publish it.
    var jwksJSON: String {
        Self.jwks([Self.ecJWK(key, kid: Self.keyID)])
    }

    /// `members` (JSON text, comma first) are added, e.g. `,"issuer":"…"`; `use` nil leaves it out.
    static func ecJWK(_ key: ES256PrivateKey, kid: String, use: String? = "sig", members: String = "") -> String {
        let parameters = key.parameters!
        let usage = use.map { #""use":"\#($0)","# } ?? ""
        return #"{"kty":"EC","crv":"P-256",\#(usage)"kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)""#
            + members + "}"
    }

    static func jwks(_ keys: [String]) -> String {
        #"{"keys":[\#(keys.joined(separator: ","))]}"#
    }

    func authenticator(
        issuers: IssuerPolicy = .oneOf([Fixture.v2Issuer(Fixture.contoso)]),
        audiences: Set<String> = [Fixture.audience]
    ) async throws -> AdminAuthenticator {
        try await Self.authenticator(jwksJSON: jwksJSON, issuers: issuers, audiences: audiences)
    }

    static func authenticator(
        jwksJSON: String,
        issuers: IssuerPolicy = .oneOf([Fixture.v2Issuer(Fixture.contoso)]),
        audiences: Set<String> = [Fixture.audience]
    ) async throws -> AdminAuthenticator {
        let configuration = EntraTokenTrust(
            keys: try .json(jwksJSON),
            issuers: issuers,
            audiences: audiences
        )
        return try await AdminAuthenticator(configuration: configuration, now: { Fixture.referenceTime })
    }

    func token(_ claims: TestClaims = TestClaims(), kid: String = Fixture.keyID) async throws -> String {
        try await signers.sign(claims, kid: JWKIdentifier(string: kid))
    }

    static func base64URL(_ data: some DataProtocol) -> String {
        Data(data).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Mints `claims` with the trusted key and expects the default authenticator to refuse them for `failure`.
    func expectRefused(
        _ claims: TestClaims,
        _ failure: AuthenticationFailure,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        await Self.expectRefused(
            try await authenticator(),
            token: try await token(claims),
            failure,
            sourceLocation: sourceLocation
        )
    }

    /// The caller `authenticator` accepts for `token`, or the refusal thrown.
    static func principal(
        _ authenticator: AdminAuthenticator,
        _ token: String,
        for area: AdminArea = .tenantIsolation
    ) async throws -> AdminPrincipal {
        try await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: area).get()
    }

    /// Asks for `area` with `Bearer <token>` and expects a refusal for `failure` whose texts do not repeat the token.
    static func expectRefused(
        _ authenticator: AdminAuthenticator,
        token: String,
        _ failure: AuthenticationFailure,
        area: AdminArea = .tenantIsolation,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let result = await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: area)
        #expect(result.failure == .unauthenticated(failure), sourceLocation: sourceLocation)
        #expect(result.failure?.httpStatus == 401, sourceLocation: sourceLocation)
        for part in token.split(separator: ".") where part.count > 3 {
            #expect(result.failure?.wwwAuthenticate.contains(part) == false, sourceLocation: sourceLocation)
            #expect(result.failure?.description.contains(part) == false, sourceLocation: sourceLocation)
        }
    }
}

/// The claims of an Entra v2 access token for a Global Administrator of Contoso, each one replaceable.
struct TestClaims: JWTPayload {
    var iss: String? = Fixture.v2Issuer(Fixture.contoso)
    var aud: [String]? = [Fixture.audience]
    var exp: Int? = Int(Fixture.referenceTime.timeIntervalSince1970) + 3600
    var nbf: Int? = Int(Fixture.referenceTime.timeIntervalSince1970) - 300
    var tid: String? = Fixture.contoso.description
    var oid: String? = "6f7cdd7c-3b39-4c5c-9a6a-3c1d6a0e2f11"
    var name: String? = "Adele Vance"
    var preferredUsername: String? = "adele@contoso.example"
    var azp: String? = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    var wids: [String]? = [AdminRole.globalAdministrator.rawValue]

    enum CodingKeys: String, CodingKey {
        case iss, aud, exp, nbf, tid, oid, name, azp, wids
        case preferredUsername = "preferred_username"
    }

    func verify(using _: some JWTAlgorithm) {}
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// RSA keys come from openssl: the test target depends on jwt-kit alone, which cannot generate them.
enum OpenSSL {
    static let path = "/usr/bin/openssl"
    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// A fresh RSA 2048 key; openssl gets a 60 s deadline.
    static func rsaKey() throws -> Insecure.RSA.PrivateKey {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("admin-auth-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let keyPath = "\(directory)/key.pem"
        let outcome = try ChildProcess.runBlocking(
            path,
            ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", keyPath],
            deadlineSeconds: 60
        )
        try #require(outcome.status == 0, "\(outcome.errors)")
        return try Insecure.RSA.PrivateKey(pem: String(contentsOfFile: keyPath, encoding: .utf8))
    }

    static func jwk(_ key: Insecure.RSA.PrivateKey, kid: String) throws -> String {
        let primitives = try key.publicKey.getKeyPrimitives()
        let n = Fixture.base64URL(primitives.modulus)
        let e = Fixture.base64URL(primitives.publicExponent)
        return #"{"kty":"RSA","use":"sig","kid":"\#(kid)","n":"\#(n)","e":"\#(e)"}"#
    }
}
