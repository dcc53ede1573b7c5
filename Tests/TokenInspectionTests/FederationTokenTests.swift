import Foundation
import TenantPolicy
import Testing

@testable import TokenInspection

/// SAML assertions handed over by SAML-P, WS-Federation and WS-Trust: the tenant is read from every issuer, and
/// anything but one Entra tenant is unreadable.
struct FederationTokenTests {
    static let contoso = "b5a8b2e4-0c1f-4a7e-9f0e-2d3c4b5a6f70"
    static let northwind = "9188040d-6c67-4c5b-b112-36a304b66dad"
    static func issuer(_ tenant: String) -> String { "https://sts.windows.net/\(tenant)/" }

    static func tenant(_ token: FederationToken?) -> TenantID? {
        if case .issued(let claims) = token { claims.issuer.tenant } else { nil }
    }

    static func samlResponse(responseIssuer: String, assertion: String) -> String {
        #"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">"#
            + #"<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">\#(responseIssuer)</Issuer>"# + assertion
            + "</samlp:Response>"
    }

    static func carriers(field: String, value: String) -> TokenCarriers {
        let page = #"<html><form><input type="hidden" name="\#(field)" value="\#(value)"/></form></html>"#
        return TokenCarriers.scan(contentTypes: ["text/html"], body: Array(page.utf8), location: nil)
    }

    @Test func aSAMLResponseNamesItsTenantInEveryIssuer() throws {
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.contoso),
            assertion: "<Assertion><Issuer>\n  \(Self.issuer(Self.contoso))\n</Issuer></Assertion>"
        )
        let found = Self.carriers(field: "SAMLResponse", value: Data(xml.utf8).base64EncodedString())
        #expect(Self.tenant(found.federationToken) == TenantID(Self.contoso))
        #expect(found.carriesTokens)
    }

    @Test func anEncryptedAssertionIsReadFromTheResponsesIssuer() {
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.northwind),
            assertion: "<EncryptedAssertion><xenc:EncryptedData>AAAA</xenc:EncryptedData></EncryptedAssertion>"
        )
        #expect(Self.tenant(FederationToken.read(xml: Array(xml.utf8))) == TenantID(Self.northwind))
    }

    /// Each way an assertion may fail to name one Entra tenant, and the reason it is then unreadable.
    @Test(arguments: [
        (
            samlResponse(
                responseIssuer: issuer(contoso),
                assertion: "<a:Assertion><a:Issuer>\(issuer(northwind))</a:Issuer></a:Assertion>"
            ), "different tenants"
        ),
        (samlResponse(responseIssuer: "https://idp.example.org/", assertion: "<Assertion/>"), "not an Entra tenant"),
        (
            "<wst:RequestSecurityTokenResponse><wst:RequestedSecurityToken><wsse:BinarySecurityToken>t=EwB"
                + "</wsse:BinarySecurityToken></wst:RequestedSecurityToken>",
            "names no issuer"
        ),
        // An issuer inside a comment counts too: a reader that skipped it could be shown a tenant of its choosing.
        (
            samlResponse(
                responseIssuer: issuer(contoso),
                assertion: "<Assertion><!-- <Issuer>\(issuer(northwind))</Issuer> --></Assertion>"
            ), "different tenants"
        ),
        (
            samlResponse(
                responseIssuer: issuer(contoso),
                assertion: #"<Assertion><Attribute Name="http://schemas.microsoft.com/identity/claims/tenantid">"#
                    + "<AttributeValue>\(northwind)</AttributeValue></Attribute></Assertion>"
            ), "tenantid is not its issuer's"
        ),
    ])
    func anythingButOneEntraTenantIsUnreadable(_ xml: String, _ reason: String) {
        guard case .unreadable(let why) = FederationToken.read(xml: Array(xml.utf8)) else {
            Issue.record("\(xml) must be unreadable")
            return
        }
        #expect(why.contains(reason), "\(why)")
    }

    /// A response carrying no assertion is no token: a logout response, posted or redirected (a redirect never
    /// carries an assertion), and no XML at all.
    @Test func aLogoutResponseIsNoToken() {
        let logout = #"<samlp:LogoutResponse><Issuer>\#(Self.issuer(Self.contoso))</Issuer></samlp:LogoutResponse>"#
        #expect(FederationToken.read(xml: Array(logout.utf8)) == nil)
        #expect(FederationToken.read(xml: []) == nil)
        #expect(!Self.carriers(field: "SAMLResponse", value: Data(logout.utf8).base64EncodedString()).carriesTokens)
        let location = "https://app.example/slo?SAMLResponse=fZJNb9swDIbv%2BxWG7o7s&RelayState=x"
        #expect(!TokenCarriers.scan(contentTypes: [], body: [UInt8](), location: location).carriesTokens)
    }

    /// Text a user chooses (a display name in an attribute's value) cannot pass for an issuer: it is no tag's
    /// attribute.
    @Test func anIssuerSpelledInAnAttributesValueIsText() {
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.contoso),
            assertion:
                #"<Assertion><Attribute Name="displayname"><AttributeValue>Bob Issuer="\#(Self.issuer(Self.northwind))" &gt;"#
                + "</AttributeValue></Attribute></Assertion>"
        )
        #expect(Self.tenant(FederationToken.read(xml: Array(xml.utf8))) == TenantID(Self.contoso))
    }

    /// Reading is linear in the input: runs of `&#`, `<` and quotes cost their length (a quadratic reader would take
    /// minutes here, past the one-minute bound).
    @Test(.timeLimit(.minutes(1)))
    func hostileRunsAreReadInLinearTime() {
        let count = 1 << 20
        let references = Array(repeating: Array("&#".utf8), count: count / 2).flatMap { $0 }
        #expect(
            Self.carriers(field: "wresult", value: String(decoding: references, as: UTF8.self)).federationToken == nil
        )
        let tags = [UInt8](repeating: UInt8(ascii: "<"), count: count)
        #expect(FederationToken.read(xml: tags) == nil)
        let quotes = Array("<Assertion Issuer=\"".utf8) + [UInt8](repeating: UInt8(ascii: "'"), count: count)
        guard case .unreadable = FederationToken.read(xml: quotes) else {
            Issue.record("an assertion whose issuer never ends is unreadable")
            return
        }
    }

    /// A guest's home tenant and object ID, as the cross-tenant access settings ask for them.
    @Test func aGuestsAssertionNamesItsHome() throws {
        let claims = "http://schemas.microsoft.com/identity/claims/"
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.contoso),
            assertion: "<Assertion><AttributeStatement>"
                + #"<Attribute Name="\#(claims)identityprovider"><AttributeValue>\#(Self.issuer(Self.northwind))"#
                + "</AttributeValue></Attribute>"
                + #"<Attribute Name="\#(claims)objectidentifier"><AttributeValue>oid-1</AttributeValue></Attribute>"#
                + "</AttributeStatement></Assertion>"
        )
        let endpoint = try #require(TokenEndpoint.flow(host: "login.microsoftonline.com", path: "/common/saml2"))
        var carriers = TokenCarriers()
        carriers.federationToken = FederationToken.read(xml: Array(xml.utf8))
        let evidence = TokenResponseInspector.inspect(carriers, endpoint: endpoint)
        #expect(evidence.signInTenant == TenantID(Self.contoso))
        #expect(evidence.homeTenant == TenantID(Self.northwind))
        #expect(evidence.objectID == "oid-1")
    }

    /// Past 150 groups Entra's assertion links to them (`groups.link`) instead of listing them: the user's groups are
    /// then unknown, not none; so are they when more are listed than are kept.
    @Test func anAssertionThatLinksToItsGroupsDoesNotListThemInFull() throws {
        func claims(_ attributes: String) -> FederationToken.Claims? {
            let xml = Self.samlResponse(
                responseIssuer: Self.issuer(Self.contoso),
                assertion: "<Assertion><AttributeStatement>\(attributes)</AttributeStatement></Assertion>"
            )
            if case .issued(let claims) = FederationToken.read(xml: Array(xml.utf8)) { return claims }
            return nil
        }
        let groups = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"
        func listing(_ count: Int) -> String {
            #"<Attribute Name="\#(groups)">"#
                + (0..<count).map { "<AttributeValue>g\($0)</AttributeValue>" }.joined() + "</Attribute>"
        }
        let link =
            #"<Attribute Name="http://schemas.microsoft.com/claims/groups.link">"#
            + "<AttributeValue>https://graph.windows.net/x/users/o/getMemberObjects</AttributeValue></Attribute>"
        #expect(try #require(claims(listing(2))).groupsListedInFull)
        #expect(try #require(claims(listing(2))).groupIDs == ["g0", "g1"])
        #expect(try #require(claims(listing(256))).groupsListedInFull)
        #expect(try #require(claims(listing(257))).groupsListedInFull == false)
        #expect(try #require(claims(listing(257))).groupIDs.count == 256)
        #expect(try #require(claims(link)).groupsListedInFull == false)
    }

    @Test func aWSFederationResultIsReadThroughItsCharacterReferences() {
        let value =
            "&lt;t:RequestSecurityTokenResponse&gt;&lt;saml:Assertion MajorVersion=&#34;1&#x22; "
            + "Issuer=&quot;\(Self.issuer(Self.contoso))&quot;/&gt;&lt;/t:RequestSecurityTokenResponse&gt;"
        #expect(Self.tenant(Self.carriers(field: "wresult", value: value).federationToken) == TenantID(Self.contoso))
    }

    /// The evidence: the assertion's tenant, or no tenant and a reason when a JWT beside it names another.
    @Test func theEvidenceTakesTheAssertionsTenantUnlessTokensDisagree() throws {
        let endpoint = try #require(TokenEndpoint.flow(host: "login.microsoftonline.com", path: "/common/saml2"))
        var carriers = TokenCarriers()
        carriers.federationToken = .issued(.init(issuer: EntraIssuer.parse(Self.issuer(Self.contoso))!))
        let evidence = TokenResponseInspector.inspect(carriers, endpoint: endpoint)
        #expect(evidence.signInTenant == TenantID(Self.contoso))
        #expect(evidence.tokenSource == .samlAssertion && evidence.isEntraToken && evidence.isSuccess)
        carriers.federationToken = .unreadable("why")
        #expect(TokenResponseInspector.inspect(carriers, endpoint: endpoint).unreadableReason == "why")
    }
}
