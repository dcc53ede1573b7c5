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

    static func samlResponse(responseIssuer: String, assertion: String) -> String {
        #"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">"#
            + #"<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">\#(responseIssuer)</Issuer>"# + assertion
            + "</samlp:Response>"
    }

    static func carriers(field: String, value: String) -> TokenCarriers {
        let page = #"<html><form><input type="hidden" name="\#(field)" value="\#(value)"/></form></html>"#
        return TokenCarriers.scan(contentType: "text/html", body: Array(page.utf8), location: nil)
    }

    @Test func aSAMLResponseNamesItsTenantInEveryIssuer() throws {
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.contoso),
            assertion: "<Assertion><Issuer>\n  \(Self.issuer(Self.contoso))\n</Issuer></Assertion>"
        )
        let found = Self.carriers(field: "SAMLResponse", value: Data(xml.utf8).base64EncodedString())
        guard case .issued(let parsed) = found.federationToken else {
            Issue.record("\(String(describing: found.federationToken))")
            return
        }
        #expect(parsed.tenant == TenantID(Self.contoso))
        #expect(found.carriesTokens)
    }

    @Test func anEncryptedAssertionIsReadFromTheResponsesIssuer() {
        let xml = Self.samlResponse(
            responseIssuer: Self.issuer(Self.northwind),
            assertion: "<EncryptedAssertion><xenc:EncryptedData>AAAA</xenc:EncryptedData></EncryptedAssertion>"
        )
        #expect(FederationToken.read(xml: Array(xml.utf8)) == .issued(EntraIssuer.parse(Self.issuer(Self.northwind))!))
    }

    /// Each way an assertion may fail to name one Entra tenant, and the reason it is then unreadable.
    @Test(arguments: [
        (
            samlResponse(
                responseIssuer: issuer(contoso),
                assertion: "<a:Assertion><a:Issuer>\(issuer(northwind))</a:Issuer></a:Assertion>"
            ), "different tenants"
        ),
        (samlResponse(responseIssuer: "https://idp.example.org/", assertion: ""), "not an Entra tenant"),
        (
            "<wst:RequestSecurityTokenResponse><wsse:BinarySecurityToken>t=EwB</wsse:BinarySecurityToken>",
            "names no issuer"
        ),
        // An issuer inside a comment counts too: a reader that skipped it could be shown a tenant of its choosing.
        (
            samlResponse(responseIssuer: issuer(contoso), assertion: "<!-- <Issuer>\(issuer(northwind))</Issuer> -->"),
            "different tenants"
        ),
        ("", "names no issuer"),
    ])
    func anythingButOneEntraTenantIsUnreadable(_ xml: String, _ reason: String) {
        guard case .unreadable(let why) = FederationToken.read(xml: Array(xml.utf8)) else {
            Issue.record("\(xml) must be unreadable")
            return
        }
        #expect(why.contains(reason), "\(why)")
    }

    @Test func aWSFederationResultIsReadThroughItsCharacterReferences() {
        let value =
            "&lt;t:RequestSecurityTokenResponse&gt;&lt;saml:Assertion MajorVersion=&#34;1&#x22; "
            + "Issuer=&quot;\(Self.issuer(Self.contoso))&quot;/&gt;&lt;/t:RequestSecurityTokenResponse&gt;"
        #expect(
            Self.carriers(field: "wresult", value: value).federationToken
                == .issued(EntraIssuer.parse(Self.issuer(Self.contoso))!)
        )
    }

    @Test func aCompressedRedirectBindingIsUnreadable() {
        let location = "https://app.example/acs?SAMLResponse=fZJNb9swDIbv%2BxWG7o7s&RelayState=x"
        let found = TokenCarriers.scan(contentType: nil, body: [UInt8](), location: location)
        guard case .unreadable = found.federationToken else {
            Issue.record("\(String(describing: found.federationToken))")
            return
        }
    }

    /// The evidence: the assertion's tenant, or no tenant and a reason when a JWT beside it names another.
    @Test func theEvidenceTakesTheAssertionsTenantUnlessTokensDisagree() throws {
        let endpoint = try #require(TokenEndpoint.flow(host: "login.microsoftonline.com", path: "/common/saml2"))
        var carriers = TokenCarriers()
        carriers.federationToken = .issued(EntraIssuer.parse(Self.issuer(Self.contoso))!)
        let evidence = TokenResponseInspector.inspect(carriers, endpoint: endpoint)
        #expect(evidence.signInTenant == TenantID(Self.contoso))
        #expect(evidence.tokenSource == .samlAssertion && evidence.isEntraToken && evidence.isSuccess)
        carriers.federationToken = .unreadable("why")
        #expect(TokenResponseInspector.inspect(carriers, endpoint: endpoint).unreadableReason == "why")
    }
}
