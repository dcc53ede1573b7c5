import Foundation
import NIOHTTP1
import TenantPolicy

/// Entra's SAML and WS-* endpoints as a connector's STS traffic meets them, with unsigned assertions (the proxy reads
/// the issuer, it does not verify): SAML-P (`/{tenant}/saml2`, a `form_post` page with `SAMLResponse`),
/// WS-Federation (`/{tenant}/wsfed`, a page with `wresult`), and WS-Trust (`POST /extSTS.srf`, SharePoint Online's
/// ticket, which names no issuer). `mock_tid` in the query stands for a user of another tenant signing in,
/// `mock_home_tenant` for a guest from that tenant (the `identityprovider` claim), `mock_oid` for the user's object ID.
enum MockFederation {
    static func serves(_ segments: [String]) -> Bool {
        (segments.count == 2 && ["saml2", "wsfed"].contains(segments[1].lowercased())) || segments == ["extSTS.srf"]
    }

    static func answer(segments: [String], query: [String: String], domains: [String: TenantID]) -> MockAnswer {
        if segments == ["extSTS.srf"] { return wsTrustTicket() }
        guard
            let tenant = query["mock_tid"].flatMap({ TenantID($0) }) ?? TenantID(segments[0])
                ?? domains[segments[0].lowercased()]
        else {
            return MockAnswer(.badRequest, MockTokenMinter.error("invalid_tenant", 90002, "AADSTS90002: not found."))
        }
        let issuer = "https://sts.windows.net/\(tenant)/"
        let claims = "http://schemas.microsoft.com/identity/claims/"
        var attributes = [("tenantid", tenant.description), ("objectidentifier", query["mock_oid"] ?? "\(UUID())")]
        if let home = query["mock_home_tenant"] {
            attributes.append(("identityprovider", "https://sts.windows.net/\(home)/"))
        }
        if segments[1].lowercased() == "saml2" {
            let statement = attributes.map { name, value in
                #"<Attribute Name="\#(claims)\#(name)"><AttributeValue>\#(value)</AttributeValue></Attribute>"#
            }.joined()
            let response = """
                <samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_\(UUID())" Version="2.0">\
                <Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">\(issuer)</Issuer>\
                <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>\
                <Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" ID="_\(UUID())" Version="2.0">\
                <Issuer>\(issuer)</Issuer><Subject><NameID>maker@example.org</NameID></Subject>\
                <AttributeStatement>\(statement)</AttributeStatement></Assertion>\
                </samlp:Response>
                """
            return page(field: "SAMLResponse", value: Data(response.utf8).base64EncodedString())
        }
        let statement = attributes.map { name, value in
            #"<saml:Attribute AttributeName="\#(name)" AttributeNamespace="\#(claims.dropLast())">"#
                + "<saml:AttributeValue>\(value)</saml:AttributeValue></saml:Attribute>"
        }.joined()
        let result = """
            <t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><t:RequestedSecurityToken>\
            <saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:1.0:assertion" MajorVersion="1" MinorVersion="1" \
            Issuer="\(issuer)"><saml:AttributeStatement><saml:Subject/>\(statement)</saml:AttributeStatement>\
            </saml:Assertion></t:RequestedSecurityToken></t:RequestSecurityTokenResponse>
            """
        return page(field: "wresult", value: MockTokenMinter.escaped(result))
    }

    private static func page(field: String, value: String) -> MockAnswer {
        let page = """
            <html><body onload="document.forms[0].submit()"><form method="POST" action="https://app.example/acs">\
            <input type="hidden" name="\(field)" value="\(value)"/></form></body></html>
            """
        return MockAnswer(.ok, page, contentType: "text/html; charset=utf-8")
    }

    private static func wsTrustTicket() -> MockAnswer {
        let body = """
            <S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope" \
            xmlns:wst="http://schemas.xmlsoap.org/ws/2005/02/trust" \
            xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><S:Body>\
            <wst:RequestSecurityTokenResponse><wst:RequestedSecurityToken>\
            <wsse:BinarySecurityToken Id="Compact0">t=EwBgAk6hBwAUmock\(UUID().uuidString)</wsse:BinarySecurityToken>\
            </wst:RequestedSecurityToken></wst:RequestSecurityTokenResponse></S:Body></S:Envelope>
            """
        return MockAnswer(.ok, body, contentType: "application/soap+xml; charset=utf-8")
    }
}
