import Foundation
import JWTKit
import Plumbing
import TenantPolicy
import Testing
import TokenInspection

@testable import EntraAuth

/// Key sets from files, text and URLs: clear errors for bad ones, and a URL cache that follows key rollover.
@Suite(.timeLimit(.minutes(1)))
struct JWKSTests {
    static func temporaryFile(_ contents: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID()).json").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func loadError(file path: String) -> JWKSError? {
        do {
            _ = try JWKSSource.load(file: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func keysFromAFileAuthorize() async throws {
        let fixture = await Fixture()
        let path = try Self.temporaryFile(fixture.jwksJSON)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let configuration = EntraTokenTrust(
            keys: try JWKSSource.load(file: path),
            issuers: .entraIssuerOfTokenTenant,
            audiences: [Fixture.audience]
        )
        let authenticator = try await AdminAuthenticator(configuration: configuration, now: { Fixture.referenceTime })
        let token = try await fixture.token()
        #expect(try await Fixture.principal(authenticator, token).tenant == Fixture.contoso)
    }

    @Test func missingFileSaysSo() {
        let path = "/nonexistent/\(UUID())/jwks.json"
        #expect(Self.loadError(file: path)?.description == "JWKS \(path) does not exist")
    }

    @Test(arguments: [
        ("{not json", "is not a JSON Web Key Set: not valid JSON"),
        (#"{"kid":"a"}"#, #"is not a JSON Web Key Set: no "keys" at the top level"#),
        (
            #"{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}"#,
            "is not a JSON Web Key Set: unsupported value at keys.0.kty"
        ),
        (#"{"keys":[]}"#, "contains no keys"),
        (#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#, "has a key without a kid"),
        (
            #"{"keys":[{"kty":"RSA","kid":"enc","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}]}"#,
            "has a key 'enc' (kty RSA, alg RSA-OAEP) that cannot verify signatures"
        ),
        (
            #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","alg":"RS256","x":"AQAB","y":"AQAB"}]}"#,
            "has a key 'k' (kty EC, alg RS256) that cannot verify signatures"
        ),
    ])
    func badFilesGiveClearMessages(contents: String, reason: String) throws {
        let path = try Self.temporaryFile(contents)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(Self.loadError(file: path) == JWKSError(source: path, reason: reason))
    }

    @Test func unusableKeyMaterialIsReportedWhenTheAuthenticatorStarts() async throws {
        let json = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"short","x":"AQAB","y":"AQAB"}]}"#
        await #expect(throws: JWKSError.self) { try await Fixture.authenticator(jwksJSON: json) }
    }

    @Test(arguments: ["http://login.microsoftonline.com/common/discovery/v2.0/keys", "file:///etc/jwks.json"])
    func jwksURLMustBeHTTPSOffLoopback(url: String) async throws {
        let configuration = EntraTokenTrust(
            keys: .url(try #require(URL(string: url))),
            issuers: .entraIssuerOfTokenTenant,
            audiences: [Fixture.audience]
        )
        await #expect(throws: JWKSError(source: url, reason: "is not an https URL")) {
            try await AdminAuthenticator(configuration: configuration)
        }
    }

    /// The real fetch (async-http-client): a refused connection gives a 401 and a reported failure, promptly.
    @Test func unreachableJWKSURLLeavesNoKeys() async throws {
        let fixture = await Fixture()
        let failures = FailureLog()
        let configuration = EntraTokenTrust(
            keys: .url(try #require(URL(string: "http://127.0.0.1:1/keys"))),
            issuers: .entraIssuerOfTokenTenant,
            audiences: [Fixture.audience],
            reportKeyFetchFailure: failures.record
        )
        let authenticator = try await AdminAuthenticator(configuration: configuration, now: { Fixture.referenceTime })
        await Fixture.expectRefused(authenticator, token: try await fixture.token(), .signingKeysUnavailable)
        let reported = failures.errors
        #expect(reported.count == 1)
        #expect(reported.first?.reason.hasPrefix("could not be fetched") == true)
    }
}

/// A JWKS endpoint in memory: its answer can change, and it counts fetches.
final class FakeJWKSEndpoint: Sendable {
    private let state = Locked<(answer: String?, fetches: Int)>((nil, 0))

    func publish(_ json: String?) { state.withLock { $0.answer = json } }
    var fetches: Int { state.withLock { $0.fetches } }

    func fetch(_ url: URL) throws(JWKSError) -> Data {
        let answer = state.withLock { state in
            state.fetches += 1
            return state.answer
        }
        guard let answer else { throw JWKSError(source: url.absoluteString, reason: "answered HTTP 503") }
        return Data(answer.utf8)
    }
}

/// A fetch that can be held until released, to show what waits for it.
final class StalledFetch: Sendable {
    private let endpoint: FakeJWKSEndpoint
    private let state = Locked<(stalled: Bool, waiting: Bool)>((false, false))

    init(_ endpoint: FakeJWKSEndpoint) { self.endpoint = endpoint }

    func stall() { state.withLock { $0.stalled = true } }
    func release() { state.withLock { $0.stalled = false } }
    var waiting: Bool { state.withLock { $0.waiting } }

    func fetch(_ url: URL) async throws(JWKSError) -> Data {
        for _ in 0..<500 where state.withLock({ $0.stalled }) {
            state.withLock { $0.waiting = true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        state.withLock { $0.waiting = false }
        return try endpoint.fetch(url)
    }
}

/// Collects the fetch failures the authenticator reports.
final class FailureLog: Sendable {
    private let recorded = Locked<[JWKSError]>([])
    var errors: [JWKSError] { recorded.withLock { $0 } }
    @Sendable func record(_ error: JWKSError) { recorded.withLock { $0.append(error) } }
}

/// The injected clock for the cache.
final class TestClock: Sendable {
    private let time = Locked(Fixture.referenceTime)
    func now() -> Date { time.withLock { $0 } }
    func advance(by seconds: TimeInterval) { time.withLock { $0 += seconds } }
}

@Suite(.timeLimit(.minutes(1)))
struct RemoteJWKSTests {
    let endpoint = FakeJWKSEndpoint()
    let clock = TestClock()
    let failures = FailureLog()

    func authenticator() async throws -> AdminAuthenticator {
        let configuration = EntraTokenTrust(
            keys: .url(try #require(URL(string: "https://login.microsoftonline.com/common/discovery/v2.0/keys"))),
            issuers: .entraIssuerOfTokenTenant,
            audiences: [Fixture.audience],
            reportKeyFetchFailure: failures.record
        )
        return try await AdminAuthenticator(
            configuration: configuration,
            now: { [clock] in clock.now() },
            fetch: { [endpoint] url throws(JWKSError) in
                try endpoint.fetch(url)
            }
        )
    }

    static func claims() -> TestClaims {
        var claims = TestClaims()
        claims.exp = Int(Fixture.referenceTime.timeIntervalSince1970) + 86_400
        return claims
    }

    func expectAccepted(
        _ authenticator: AdminAuthenticator,
        _ token: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let result = await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: .tenantIsolation)
        #expect((try? result.get().tenant) == Fixture.contoso, sourceLocation: sourceLocation)
    }

    /// Whether `condition` holds within a second: a refresh runs beside the token that found it due.
    func soon(_ condition: () -> Bool) async throws -> Bool {
        for _ in 0..<100 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        return condition()
    }

    @Test func keysAreFetchedOnceAndReused() async throws {
        let fixture = await Fixture()
        endpoint.publish(fixture.jwksJSON)
        let authenticator = try await authenticator()
        #expect(endpoint.fetches == 0)
        let token = try await fixture.token(Self.claims())
        for _ in 0..<3 { await expectAccepted(authenticator, token) }
        #expect(endpoint.fetches == 1)
        clock.advance(by: 3599)
        await expectAccepted(authenticator, token)
        #expect(endpoint.fetches == 1)
        clock.advance(by: 1)
        await expectAccepted(authenticator, token)
        #expect(try await soon { endpoint.fetches == 2 })
    }

    /// A token naming a key held is answered at once while a fetch is under way (review 56: a made-up `kid`, sent by
    /// anyone, started one that every new maker token then waited for).
    @Test func aKeyHeldIsUsedWhileAFetchIsUnderWay() async throws {
        let fixture = await Fixture()
        endpoint.publish(fixture.jwksJSON)
        let stalled = StalledFetch(endpoint)
        let configuration = EntraTokenTrust(
            keys: .url(try #require(URL(string: "https://login.microsoftonline.com/common/discovery/v2.0/keys"))),
            issuers: .entraIssuerOfTokenTenant,
            audiences: [Fixture.audience],
            reportKeyFetchFailure: failures.record
        )
        let authenticator = try await AdminAuthenticator(
            configuration: configuration,
            now: { [clock] in clock.now() },
            fetch: { url throws(JWKSError) in try await stalled.fetch(url) }
        )
        let token = try await fixture.token(Self.claims())
        await expectAccepted(authenticator, token)
        clock.advance(by: 61)
        stalled.stall()
        await fixture.signers.add(ecdsa: fixture.key, kid: JWKIdentifier(string: "made-up"))
        let forged = Task { [fixture] in
            await Fixture.expectRefused(
                authenticator,
                token: try await fixture.token(Self.claims(), kid: "made-up"),
                .unknownKey
            )
        }
        #expect(try await soon { stalled.waiting })
        await expectAccepted(authenticator, token)
        #expect(stalled.waiting, "answered while the fetch was still held")
        stalled.release()
        try await forged.value
    }

    @Test func unknownKidRefetchesAtMostOncePerMinute() async throws {
        let old = await Fixture()
        endpoint.publish(old.jwksJSON)
        let authenticator = try await authenticator()
        await expectAccepted(authenticator, try await old.token(Self.claims()))

        // Entra rolls over to a new key: the first token naming it finds the key set unchanged within the minute.
        let new = await Fixture()
        await new.signers.add(ecdsa: new.key, kid: JWKIdentifier(string: "new-key"))
        endpoint.publish(
            Fixture.jwks([Fixture.ecJWK(old.key, kid: Fixture.keyID), Fixture.ecJWK(new.key, kid: "new-key")])
        )
        let newToken = try await new.token(Self.claims(), kid: "new-key")
        clock.advance(by: 30)
        await Fixture.expectRefused(authenticator, token: newToken, .unknownKey)
        #expect(endpoint.fetches == 1)

        clock.advance(by: 31)
        await expectAccepted(authenticator, newToken)
        #expect(endpoint.fetches == 2)

        // Made-up kids cannot make it fetch again within the minute.
        for kid in ["made-up-1", "made-up-2", "made-up-3"] {
            await new.signers.add(ecdsa: new.key, kid: JWKIdentifier(string: kid))
            await Fixture.expectRefused(authenticator, token: try await new.token(Self.claims(), kid: kid), .unknownKey)
        }
        #expect(endpoint.fetches == 2)
        clock.advance(by: 60)
        let madeUp = try await new.token(Self.claims(), kid: "made-up-1")
        await Fixture.expectRefused(authenticator, token: madeUp, .unknownKey)
        #expect(endpoint.fetches == 3)
        #expect(failures.errors.isEmpty)
    }

    @Test func failedFetchKeepsTheLastGoodKeys() async throws {
        let fixture = await Fixture()
        endpoint.publish(fixture.jwksJSON)
        let authenticator = try await authenticator()
        let token = try await fixture.token(Self.claims())
        await expectAccepted(authenticator, token)

        endpoint.publish(nil)
        clock.advance(by: 3600)
        await expectAccepted(authenticator, token)
        #expect(try await soon { failures.errors.count == 1 })
        endpoint.publish("{not json")
        clock.advance(by: 60)
        await expectAccepted(authenticator, token)
        #expect(try await soon { failures.errors.count == 2 })
        #expect(endpoint.fetches == 3)
        #expect(
            failures.errors.map(\.reason) == [
                "answered HTTP 503", "is not a JSON Web Key Set: not valid JSON",
            ]
        )
    }

    @Test func noKeysUntilAFetchSucceeds() async throws {
        let fixture = await Fixture()
        let authenticator = try await authenticator()
        let token = try await fixture.token(Self.claims())
        await Fixture.expectRefused(authenticator, token: token, .signingKeysUnavailable)
        endpoint.publish(fixture.jwksJSON)
        await Fixture.expectRefused(authenticator, token: token, .signingKeysUnavailable)
        clock.advance(by: 60)
        await expectAccepted(authenticator, token)
        #expect(endpoint.fetches == 2)
    }

    @Test func concurrentRequestsShareOneFetch() async throws {
        let fixture = await Fixture()
        endpoint.publish(fixture.jwksJSON)
        let authenticator = try await authenticator()
        let token = try await fixture.token(Self.claims())
        let accepted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    (try? await Fixture.principal(authenticator, token)) != nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(accepted == 20)
        #expect(endpoint.fetches == 1)
    }
}
