import Foundation
import JWTKit
import TenantPolicy
import Testing
import TokenInspection

@testable import EntraAuth

/// Tokens that must get a 401, each for its own reason: signatures, algorithms, issuer, audience, lifetime, tenant.
@Suite(.timeLimit(.minutes(1)))
struct TokenValidationTests {
    static let now = Int(Fixture.referenceTime.timeIntervalSince1970)

    @Test(arguments: ["garbage", "a.b.c", "a.b", "...."])
    func garbageIsMalformed(token: String) async throws {
        await Fixture.expectRefused(try await Fixture().authenticator(), token: token, .malformedToken)
    }

    @Test func oversizedTokenIsRefusedBeforeDecoding() async throws {
        let token = String(repeating: "a", count: BearerCredentials.maximumTokenBytes + 1)
        await Fixture.expectRefused(try await Fixture().authenticator(), token: token, .malformedToken)
    }

    @Test func expiryAllowsTheClockSkewAndNoMore() async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        var claims = TestClaims()
        claims.exp = Self.now - 61
        await Fixture.expectRefused(authenticator, token: try await fixture.token(claims), .expired)
        claims.exp = Self.now - 59
        let token = try await fixture.token(claims)
        #expect(try await Fixture.principal(authenticator, token).tenant == Fixture.contoso)
    }

    @Test func notBeforeAllowsTheClockSkewAndNoMore() async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        var claims = TestClaims()
        claims.nbf = Self.now + 120
        await Fixture.expectRefused(authenticator, token: try await fixture.token(claims), .notYetValid)
        claims.nbf = Self.now + 30
        let token = try await fixture.token(claims)
        #expect(try await Fixture.principal(authenticator, token).tenant == Fixture.contoso)
    }

    @Test func tokenWithoutExpiryIsRefused() async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.exp = nil
        try await fixture.expectRefused(claims, .missingExpiry)
    }

    @Test(arguments: [
        Fixture.v2Issuer(Fixture.fabrikam), Fixture.v1Issuer(Fixture.contoso), "https://evil.example/v2.0", nil,
    ])
    func issuerOutsideTheConfiguredSetIsRefused(issuer: String?) async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.iss = issuer
        try await fixture.expectRefused(claims, .wrongIssuer)
    }

    @Test(arguments: [
        (Fixture.v2Issuer(Fixture.contoso), true),
        (Fixture.v1Issuer(Fixture.contoso), true),
        ("https://login.microsoftonline.com/\(Fixture.contoso.description.uppercased())/v2.0", true),
        (Fixture.v2Issuer(Fixture.fabrikam), false),
        (Fixture.v1Issuer(Fixture.fabrikam), false),
        ("https://login.microsoftonline.com/{\(Fixture.contoso)}/v2.0", false),
        ("https://login.microsoftonline.com/\(Fixture.contoso)/v2.0/", false),
        ("https://login.evil.example/\(Fixture.contoso)/v2.0", false),
    ])
    func entraIssuerMustNameTheTokensTenant(issuer: String, accepted: Bool) async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.iss = issuer
        let token = try await fixture.token(claims)
        let authenticator = try await fixture.authenticator(issuers: .entraIssuerOfTokenTenant)
        if accepted {
            let result = await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: .tenantIsolation)
            #expect(try result.get().tenant == Fixture.contoso)
        } else {
            await Fixture.expectRefused(authenticator, token: token, .wrongIssuer)
        }
    }

    @Test func audienceMustNameThisAPI() async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.aud = ["https://graph.microsoft.com"]
        let token = try await fixture.token(claims)
        await Fixture.expectRefused(try await fixture.authenticator(), token: token, .wrongAudience)
        let either = try await fixture.authenticator(audiences: [Fixture.audience, "https://graph.microsoft.com"])
        #expect(try await Fixture.principal(either, token).tenant == Fixture.contoso)
        claims.aud = nil
        try await fixture.expectRefused(claims, .wrongAudience)
    }

    @Test(arguments: [nil, "contoso.onmicrosoft.com", "", "0da59725-89fe-4a2f-bf22-fd4536c9baa"])
    func tenantMustBeAGUID(tid: String?) async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.tid = tid
        let failure: AuthenticationFailure = tid == nil ? .missingTenant : .invalidTenant
        try await fixture.expectRefused(claims, failure)
    }

    /// Entra's per-key `issuer`: a template signs for every tenant, one tenant's issuer (v1 or v2) for that tenant
    /// only, and any other issuer for itself exactly (review 36 F1).
    @Test(arguments: [
        ("https://login.microsoftonline.com/{tenantid}/v2.0", Fixture.v2Issuer(Fixture.fabrikam), true),
        (Fixture.v2Issuer(Fixture.contoso), Fixture.v2Issuer(Fixture.contoso), true),
        (Fixture.v2Issuer(Fixture.contoso), Fixture.v1Issuer(Fixture.contoso), true),
        (Fixture.v2Issuer(Fixture.contoso), Fixture.v2Issuer(Fixture.fabrikam), false),
        (Fixture.v1Issuer(Fixture.contoso), Fixture.v1Issuer(Fixture.fabrikam), false),
        (
            "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            Fixture.v2Issuer(Fixture.fabrikam), false
        ),
        ("https://issuer.example/keys", Fixture.v2Issuer(Fixture.contoso), false),
    ])
    func aKeySignsOnlyForTheIssuerItsKeySetNames(
        keyIssuer: String,
        tokenIssuer: String,
        accepted: Bool
    )
        async throws
    {
        let fixture = await Fixture()
        let jwks = Fixture.jwks([Fixture.ecJWK(fixture.key, kid: Fixture.keyID, members: #","issuer":"\#(keyIssuer)""#)]
        )
        let authenticator = try await Fixture.authenticator(jwksJSON: jwks, issuers: .entraIssuerOfTokenTenant)
        var claims = TestClaims()
        claims.iss = tokenIssuer
        claims.tid = EntraIssuer.parse(tokenIssuer)?.tenant.description
        let token = try await fixture.token(claims)
        if accepted {
            #expect(try await Fixture.principal(authenticator, token).tenant.description == claims.tid)
        } else {
            await Fixture.expectRefused(authenticator, token: token, .keyOfAnotherIssuer)
        }
    }

    /// A key published for encryption verifies nothing: the key set is refused as one with an encryption `alg` is.
    @Test(arguments: [(Optional("enc"), ""), (nil, #","key_ops":["encrypt","wrapKey"]"#), ("sig", #","key_ops":[]"#)])
    func aKeyForEncryptionIsNoSigningKey(use: String?, members: String) async throws {
        let fixture = await Fixture()
        let jwks = Fixture.jwks([Fixture.ecJWK(fixture.key, kid: "k", use: use, members: members)])
        #expect(throws: JWKSError.self) { try JWKSSource.json(jwks) }
        let verifying = Fixture.jwks([Fixture.ecJWK(fixture.key, kid: "k", members: #","key_ops":["verify"]"#)])
        _ = try JWKSSource.json(verifying)
    }

    @Test func tokenSignedByAnotherKeyWithTheTrustedKidIsRefused() async throws {
        let trusted = await Fixture()
        let other = await Fixture()
        let token = try await other.token()
        await Fixture.expectRefused(try await trusted.authenticator(), token: token, .invalidSignature)
    }

    /// jwt-kit would fall back to its default key for an unknown `kid`; the authenticator must not.
    @Test func unknownKidIsRefusedEvenWhenTheSignatureWouldVerify() async throws {
        let fixture = await Fixture()
        await fixture.signers.add(ecdsa: fixture.key, kid: JWKIdentifier(string: "rolled-out-key"))
        let token = try await fixture.token(kid: "rolled-out-key")
        await Fixture.expectRefused(try await fixture.authenticator(), token: token, .unknownKey)
        let other = await Fixture()
        await other.signers.add(ecdsa: other.key, kid: JWKIdentifier(string: "attacker-key"))
        let attackerToken = try await other.token(kid: "attacker-key")
        await Fixture.expectRefused(try await fixture.authenticator(), token: attackerToken, .unknownKey)
    }

    @Test func unsignedTokensAreRefused() async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        let payload = Fixture.base64URL(try JSONEncoder().encode(TestClaims()))
        let bare = Fixture.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        await Fixture.expectRefused(authenticator, token: "\(bare).\(payload).", .missingKeyID)
        let named = Fixture.base64URL(Data(#"{"alg":"none","typ":"JWT","kid":"\#(Fixture.keyID)"}"#.utf8))
        await Fixture.expectRefused(authenticator, token: "\(named).\(payload).", .algorithmNotAllowed)
        let noAlgorithm = Fixture.base64URL(Data(#"{"typ":"JWT","kid":"\#(Fixture.keyID)"}"#.utf8))
        await Fixture.expectRefused(authenticator, token: "\(noAlgorithm).\(payload).", .algorithmNotAllowed)
    }

    /// The classic confusion attack: HS256 keyed with the public key the JWKS publishes.
    @Test func hmacKeyedWithThePublicKeyIsRefused() async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        for secret in [fixture.key.publicKey.pemRepresentation, fixture.jwksJSON] {
            let forger = JWTKeyCollection()
            let kid = JWKIdentifier(string: Fixture.keyID)
            await forger.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: kid)
            let token = try await forger.sign(TestClaims(), kid: kid)
            await Fixture.expectRefused(authenticator, token: token, .algorithmNotAllowed)
        }
    }

    @Test func criticalHeaderExtensionsAreRefused() async throws {
        let fixture = await Fixture()
        let header: JWTHeader = [
            "kid": .string(Fixture.keyID), "crit": .array([.string("exp")]), "exp": .int(Self.now),
        ]
        let token = try await fixture.signers.sign(TestClaims(), header: header)
        await Fixture.expectRefused(try await fixture.authenticator(), token: token, .unsupportedCriticalHeader)
    }

    /// Entra publishes RSA keys without `alg`: they are pinned to RS256, so neither PS256 nor HS256 gets through.
    /// Needs /usr/bin/openssl (.ci/run installs it): without it the test fails rather than skips.
    @Test func rsaKeysArePinnedToRS256() async throws {
        try #require(OpenSSL.isAvailable, "needs /usr/bin/openssl")
        let key = try OpenSSL.rsaKey()
        let jwksJSON = Fixture.jwks([try OpenSSL.jwk(key, kid: "entra-key")])
        let authenticator = try await Fixture.authenticator(jwksJSON: jwksJSON)
        let kid = JWKIdentifier(string: "entra-key")

        let rs256 = JWTKeyCollection()
        await rs256.add(rsa: key, digestAlgorithm: .sha256, kid: kid)
        let token = try await rs256.sign(TestClaims(), kid: kid)
        let principal = try await Fixture.principal(authenticator, token)
        #expect(principal.roles == [.globalAdministrator])

        let pss = JWTKeyCollection()
        await pss.add(pss: key, digestAlgorithm: .sha256, kid: kid)
        let pssToken = try await pss.sign(TestClaims(), kid: kid)
        await Fixture.expectRefused(authenticator, token: pssToken, .algorithmNotAllowed)

        let forger = JWTKeyCollection()
        await forger.add(hmac: HMACKey(from: key.publicKey.pemRepresentation), digestAlgorithm: .sha256, kid: kid)
        let forgedToken = try await forger.sign(TestClaims(), kid: kid)
        await Fixture.expectRefused(authenticator, token: forgedToken, .algorithmNotAllowed)

        // The RS256 token still verifies after the refused attempts: nothing a token says changes the pinned key.
        #expect(try await Fixture.principal(authenticator, token) == principal)
    }
}
