import Foundation
import JWTKit
import TenantPolicy
import Testing
import TokenInspection

@testable import EntraAuth

/// Who may work on which admin area, and the HTTP answers for those who may not.
@Suite(.timeLimit(.minutes(1)))
struct AuthorizationTests {
    @Test func globalAdministratorMayWorkOnBothAreas() async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        let token = try await fixture.token()
        for area in AdminArea.allCases {
            let principal = try await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: area).get()
            #expect(
                principal
                    == AdminPrincipal(
                        tenant: Fixture.contoso,
                        objectID: "6f7cdd7c-3b39-4c5c-9a6a-3c1d6a0e2f11",
                        displayName: "Adele Vance",
                        username: "adele@contoso.example",
                        roles: [.globalAdministrator],
                        applicationID: "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
                    )
            )
        }
    }

    @Test(arguments: [
        ([AdminRole.powerPlatformAdministrator.rawValue], AdminArea.tenantIsolation, true),
        ([AdminRole.powerPlatformAdministrator.rawValue], AdminArea.crossTenantAccess, false),
        ([AdminRole.securityAdministrator.rawValue], AdminArea.tenantIsolation, false),
        ([AdminRole.securityAdministrator.rawValue], AdminArea.crossTenantAccess, true),
        ([], AdminArea.tenantIsolation, false),
        ([], AdminArea.crossTenantAccess, false),
        // Another directory role (Exchange Administrator) grants nothing here.
        (["29232cdf-9323-42fd-ade2-1d097af3e4de"], AdminArea.tenantIsolation, false),
        // Template IDs are GUIDs: their letter case does not matter.
        ([AdminRole.globalAdministrator.rawValue.uppercased()], AdminArea.crossTenantAccess, true),
    ])
    func rolesGrantAreas(wids: [String], area: AdminArea, allowed: Bool) async throws {
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator()
        var claims = TestClaims()
        claims.wids = wids
        let token = try await fixture.token(claims)
        let result = await authenticator.authorize(authorizationHeader: "Bearer \(token)", for: area)
        if allowed {
            #expect(try result.get().roles == AdminRole.held(in: wids))
        } else {
            #expect(result.failure == .forbidden(area))
            #expect(result.failure?.httpStatus == 403)
        }
    }

    @Test func tokenWithoutWidsIsForbidden() async throws {
        let fixture = await Fixture()
        var claims = TestClaims()
        claims.wids = nil
        let result = try await fixture.authenticator().authorize(
            authorizationHeader: "Bearer \(try await fixture.token(claims))",
            for: .tenantIsolation
        )
        #expect(result.failure == .forbidden(.tenantIsolation))
    }

    @Test func forbiddenAnswerNamesTheRolesNeeded() {
        let error = AdminAuthError.forbidden(.crossTenantAccess)
        #expect(error.httpStatus == 403)
        let description = "cross-tenant access settings need the Global Administrator or Security Administrator role"
        #expect(error.wwwAuthenticate == #"Bearer error="insufficient_scope", error_description="\#(description)""#)
    }

    @Test func missingHeaderAsksForCredentialsWithoutAnErrorCode() async throws {
        let result = try await Fixture().authenticator().authorize(authorizationHeader: nil, for: .tenantIsolation)
        #expect(result.failure == .unauthenticated(.missingCredentials))
        #expect(result.failure?.httpStatus == 401)
        #expect(result.failure?.wwwAuthenticate == "Bearer")
    }

    @Test(arguments: ["Basic YWRtaW46cGFzc3dvcmQ=", "Bearer", "", "Token abc", "Bearer a b"])
    func headersWithoutOneBearerTokenAreUnauthenticated(header: String) async throws {
        let result = try await Fixture().authenticator().authorize(authorizationHeader: header, for: .tenantIsolation)
        #expect(result.failure == .unauthenticated(.notBearer))
        let description = "the Authorization header does not carry a Bearer token"
        #expect(
            result.failure?.wwwAuthenticate == #"Bearer error="invalid_token", error_description="\#(description)""#
        )
    }

    @Test(arguments: ["bearer", "BEARER", "bEaReR"])
    func schemeIsCaseInsensitive(scheme: String) async throws {
        let fixture = await Fixture()
        let token = try await fixture.token()
        let result = try await fixture.authenticator().authorize(
            authorizationHeader: "\(scheme)  \(token)",
            for: .tenantIsolation
        )
        #expect(try result.get().tenant == Fixture.contoso)
    }

    @Test func principalMayAdministerOnlyItsOwnTenant() async throws {
        let fixture = await Fixture()
        let principal = try await fixture.authenticator().authorize(
            authorizationHeader: "Bearer \(try await fixture.token())",
            for: .tenantIsolation
        ).get()
        #expect(principal.mayAdminister(Fixture.contoso))
        #expect(principal.mayAdminister(TenantID(Fixture.contoso.description.uppercased())!))
        #expect(!principal.mayAdminister(Fixture.fabrikam))
    }

    @Test func v1TokenNamesUserAndAppTheV1Way() async throws {
        struct V1Claims: JWTPayload {
            var iss = Fixture.v1Issuer(Fixture.contoso)
            var aud = Fixture.audience
            var exp = Int(Fixture.referenceTime.timeIntervalSince1970) + 600
            var tid = Fixture.contoso.description
            var upn = "adele@contoso.example"
            var appid = "1950a258-227b-4e31-a9cf-717495945fc2"
            var wids = [AdminRole.securityAdministrator.rawValue]
            func verify(using _: some JWTAlgorithm) {}
        }
        let fixture = await Fixture()
        let authenticator = try await fixture.authenticator(issuers: .entraIssuerOfTokenTenant)
        let token = try await fixture.signers.sign(V1Claims(), kid: JWKIdentifier(string: Fixture.keyID))
        let principal = try await authenticator.authorize(
            authorizationHeader: "Bearer \(token)",
            for: .crossTenantAccess
        ).get()
        #expect(principal.username == "adele@contoso.example")
        #expect(principal.applicationID == "1950a258-227b-4e31-a9cf-717495945fc2")
        #expect(principal.objectID == nil && principal.displayName == nil)
        #expect(principal.roles == [.securityAdministrator])
    }

    @Test func rolesHaveTheirEntraNames() {
        #expect(
            AdminRole.allCases.map(\.description) == [
                "Global Administrator", "Power Platform Administrator", "Security Administrator",
            ]
        )
        #expect(AdminRole(templateID: "62E90394-69F5-4237-9190-012177145E10") == .globalAdministrator)
    }
}
