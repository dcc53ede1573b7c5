import Foundation
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

/// Token endpoints, issuers, claims and responses, with tokens built in the test.
struct TokenInspectionTests {
    static let fabrikam = ExampleTenants.fabrikam.description
    static let northwind = ExampleTenants.northwind.description

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// An unsigned-but-well-formed JWS: the proxy never checks signatures (it trusts the verified TLS channel).
    static func token(_ claims: String) -> String {
        "\(base64URL(#"{"typ":"JWT","alg":"RS256","kid":"k"}"#)).\(base64URL(claims)).\(base64URL("signature"))"
    }

    static let v2 = TokenEndpoint.match(host: "login.microsoftonline.com", path: "/\(fabrikam)/oauth2/v2.0/token")!

    @Test(arguments: [
        ("login.microsoftonline.com", "/contoso.com/oauth2/v2.0/token?x=1", true),
        ("login.windows.net", "/common/oauth2/token", true),
        ("login.microsoftonline.us", "/\(fabrikam)/oauth2/v2.0/token", true),
        ("login.partner.microsoftonline.cn", "/\(fabrikam)/OAuth2/V2.0/Token", true),
        ("login.microsoftonline.com", "/\(fabrikam)/oauth2/v2.0/authorize", false),
        ("login.microsoftonline.com", "/\(fabrikam)/v2.0/.well-known/openid-configuration", false),
        ("app.vssps.visualstudio.com", "/oauth2/token", true),
        ("example.com", "/\(fabrikam)/oauth2/token", false),
    ])
    func tokenEndpointsAreRecognised(host: String, path: String, isTokenEndpoint: Bool) {
        #expect((TokenEndpoint.match(host: host, path: path) != nil) == isTokenEndpoint)
    }

    @Test func tenantSegmentKinds() {
        #expect(Self.v2.tenantSegmentKind == .guid(TenantID(Self.fabrikam)!))
        #expect(
            TokenEndpoint.match(host: "login.microsoftonline.com", path: "/organizations/oauth2/v2.0/token")?
                .tenantSegmentKind == .organizations
        )
        #expect(
            TokenEndpoint.match(host: "login.microsoftonline.com", path: "/Contoso.com/oauth2/token")?.tenantSegmentKind
                == .domain("contoso.com")
        )
        // Read as a decoding server reads it: escapes decoded, then cut at `;`.
        let fabrikam = TenantID(Self.fabrikam)!
        for segment in [
            "%7B\(Self.fabrikam)%7D", "\(Self.fabrikam)%3B", "\(Self.fabrikam)%3Bjunk", "\(Self.fabrikam);x",
        ] {
            let endpoint = TokenEndpoint.match(host: "login.microsoftonline.com", path: "/\(segment)/oauth2/v2.0/token")
            #expect(endpoint?.tenantSegmentKind == .guid(fabrikam), "\(segment)")
        }
        #expect(
            TokenEndpoint.match(host: "login.microsoftonline.com", path: "/contoso%2Ecom/oauth2/token")?
                .tenantSegmentKind == .domain("contoso.com")
        )
    }

    @Test func interceptionHosts() {
        #expect(STSHosts.shouldIntercept("LOGIN.microsoftonline.com", extraHosts: []))
        #expect(STSHosts.shouldIntercept("app.vssps.visualstudio.com", extraHosts: []))
        #expect(
            !STSHosts.shouldIntercept(
                "device.login.microsoftonline.com",
                extraHosts: ["device.login.microsoftonline.com"]
            )
        )
        #expect(!STSHosts.shouldIntercept("graph.microsoft.com", extraHosts: []))
        #expect(STSHosts.shouldIntercept("graph.microsoft.com", extraHosts: ["graph.microsoft.com"]))
    }

    @Test func formParsingKeepsNoSecret() {
        let body =
            "client_id=app%201&grant_type=authorization_code&code=SECRETCODE&client_secret=S3cr3t%2B&refresh_token=RT&scope=openid+profile"
        let summary = TokenRequestSummary(formBody: Array(body.utf8))
        #expect(
            summary == TokenRequestSummary(clientID: "app 1", grantType: "authorization_code", scope: "openid profile")
        )
        #expect(
            !"\(summary)".contains("SECRETCODE") && !"\(summary)".contains("S3cr3t") && !"\(summary)".contains("RT\"")
        )
    }

    /// Regression (fuzzing): a value cut at 512 bytes inside a two-byte character keeps its first 511 bytes.
    @Test func aValueCutInsideACharacterIsKept() {
        let summary = TokenRequestSummary(
            formBody: Array(("client_id=" + String(repeating: "a", count: 511) + "%C3%A9").utf8)
        )
        #expect(summary.clientID == String(repeating: "a", count: 511))
    }

    /// The admin console reads its queries and forms with `FormText.fields`: any text, malformed escapes as
    /// written (Foundation's URLComponents stopped the process at `%`), `+` for space, the first of a repeated name.
    @Test func formFieldsTakeAnyText() {
        #expect(FormText.fields("state=%") == ["state": "%"])
        #expect(FormText.fields("x=%zz&y=%4&z=%%41") == ["x": "%zz", "y": "%4", "z": "%A"])
        // `%71` is `q` again: the first `q` is kept.
        #expect(FormText.fields("q=a+b%2Bc&q=second&flag&&%71=%22") == ["q": "a b+c", "flag": ""])
        #expect(FormText.fields(#"a="&b=<{|\^`>"#) == ["a": "\"", "b": "<{|\\^`>"])
    }

    @Test func formFieldEdgeCases() {
        // Encoded names, a name without a value, a truncated escape, empty pairs, the last value kept (and the
        // repeat reported).
        let summary = TokenRequestSummary(
            formBody: Array("&&client%5Fid=a%2Fb&scope&resource=%4&grant_type=x&grant_type=y&".utf8)
        )
        #expect(
            summary.clientID == "a/b" && summary.grantType == "y" && summary.scope == nil && summary.resource == nil
        )
        #expect(summary.repeatedField == "grant_type")
        #expect(TokenRequestSummary(formBody: [UInt8]()) == TokenRequestSummary())
        let long = TokenRequestSummary(formBody: Array(("client_id=" + String(repeating: "x", count: 2_000)).utf8))
        #expect(long.clientID?.count == 512)
    }

    @Test(
        arguments: [
            ("client_id=a&client_id=b", "client_id"),
            ("client_id=a&client%5Fid=b", "client_id"),
            // Entra's form reader folds names' letter case (review 54).
            ("client_id=a&Client_Id=b", "client_id"),
            ("GRANT_TYPE=x&grant_type=y", "grant_type"),
            ("client%5fid=a&client_id=b", "client_id"),
            ("client_id=a&client%5Fid", "client_id"),
            ("client_id&client_id=a", "client_id"),
            ("grant_type=x&grant_type=y", "grant_type"),
            ("grant_type=x&grant%5Ftype=y", "grant_type"),
            ("%67rant_type=x&scope=s&grant_type=x", "grant_type"),
            ("client_id=a&grant_type=x&grant_type=y&client_id=b", "grant_type"),
            ("client_id=a&grant_type=x", nil),
            ("client_id=a&scope=x&scope=y&resource=r&resource=s", nil),
            ("client_id=a&&client_idx=b&xclient_id=c", nil),
            ("client_id=a&client+id=b&client%5Fid%zz=c", nil),
            ("client_id=a&code=c&code=d&client_secret=s&client_secret=t", nil),
        ] as [(String, String?)]
    )
    func repeatedDecisionFieldsAreReported(body: String, repeated: String?) {
        let summary = TokenRequestSummary(formBody: Array(body.utf8))
        #expect(summary.repeatedField == repeated)
        #expect(!summary.truncated)
    }

    @Test(arguments: [
        (255, "", false),
        (256, "", false),
        (256, "&&&", false),
        (257, "", true),
        (256, "&client_id=b", true),
        (100_000, "", true),
    ])
    func fieldsBeyondTheLimitMarkTheBodyTruncated(fields: Int, tail: String, truncated: Bool) {
        let body = (["client_id=a"] + Array(repeating: "x=1", count: fields - 1)).joined(separator: "&") + tail
        let summary = TokenRequestSummary(formBody: Array(body.utf8))
        #expect(summary.truncated == truncated)
        #expect(summary.clientID == "a")
        #expect(summary.repeatedField == nil)
    }

    @Test(
        arguments: [
            ("login.microsoftonline.com", EntraCloud.global),
            ("LOGIN.MicrosoftOnline.com.", .global),
            ("login.windows.net", .global),
            ("login.microsoft.com", .global),
            ("sts.windows.net", .global),
            ("westus2.login.microsoft.com", .global),
            ("a.b.login.microsoft.com", .global),
            ("contoso.ciamlogin.com", .global),
            ("\(fabrikam).CIAMLOGIN.com.", .global),
            ("autologon.microsoftazuread-sso.com", .global),
            ("login.microsoftonline.us.", .usGovernment),
            ("login-us.microsoftonline.com", .usGovernment),
            ("login.chinacloudapi.cn", .china),
            ("login.sovcloud-identity.sg", .singaporeGov),
            ("device.login.microsoftonline.com", nil),
            ("device.login.microsoftonline.us", nil),
            ("device.login.partner.microsoftonline.cn", nil),
            ("enterpriseregistration.windows.net", nil),
            ("x.login.microsoftonline.com", .global),
            // MSAL's mTLS proof-of-possession and regional token hosts of every cloud (review 42).
            ("mtlsauth.microsoft.com", .global),
            ("eastus.mtlsauth.microsoft.com", .global),
            ("mtlsauth.microsoftonline.us", .usGovernment),
            ("usgovvirginia.mtlsauth.microsoftonline.us", .usGovernment),
            ("usgovvirginia.login.microsoftonline.us", .usGovernment),
            ("x.login-us.microsoftonline.com", .usGovernment),
            ("chinaeast2.login.partner.microsoftonline.cn", .china),
            ("chinaeast2.mtlsauth.partner.microsoftonline.cn", .china),
            ("mtlsauth.sovcloud-identity.fr", .franceBleu),
            ("evilmtlsauth.microsoft.com", nil),
            ("login.microsoftonline.us.evil.example", nil),
            ("loginex.microsoftonline.com", .global),
            ("login.microsoftonline-p.com", .global),
            ("microsoftonline-p.com", nil),
            ("ciamlogin.com", nil),
            ("evilciamlogin.com", nil),
            ("login.microsoft.com.evil.example", nil),
            ("evillogin.microsoft.com", nil),
            ("microsoftazuread-sso.com", nil),
            ("login.microsoftonline.com:443", nil),
            ("login.microsoftonline.com..", nil),
            ("login.microsoftonline.com/", nil),
        ] as [(String, EntraCloud?)]
    )
    func entraSTSHosts(host: String, cloud: EntraCloud?) {
        #expect(STSHosts.entraCloud(forHost: host) == cloud)
        #expect(STSHosts.shouldIntercept(host, extraHosts: []) == (cloud != nil))
    }

    @Test(arguments: [
        "device.login.microsoftonline.com", "DEVICE.login.microsoftonline.com.", "enterpriseregistration.windows.net",
        "EnterpriseRegistration.windows.net.", "contoso.enterpriseregistration.windows.net",
        "a.b.enterpriseregistration.windows.net",
    ])
    func deviceHostsAreNeverIntercepted(host: String) {
        let canonical = HostName.canonical(host) ?? host
        #expect(!STSHosts.shouldIntercept(host, extraHosts: [host, canonical]))
        #expect(STSHosts.entraCloud(forHost: host) == nil)
    }

    @Test(
        arguments: [
            ("graph.microsoft.com", ["graph.microsoft.com"], true),
            ("GRAPH.microsoft.com.", ["graph.microsoft.com"], true),
            ("app.vssps.visualstudio.com.", [], true),
            ("graph.microsoft.com", [], false),
            ("graph.microsoft.com:443", ["graph.microsoft.com:443"], false),
        ] as [(String, Set<String>, Bool)]
    )
    func extraAndNonEntraHosts(host: String, extraHosts: Set<String>, intercepted: Bool) {
        #expect(STSHosts.shouldIntercept(host, extraHosts: extraHosts) == intercepted)
    }

    @Test(
        arguments: [
            ("contoso.ciamlogin.com", "/\(fabrikam)/oauth2/v2.0/token", TokenEndpoint.Version.v2),
            ("Contoso.CiamLogin.com.", "/contoso.onmicrosoft.com/oauth2/v2.0/token", .v2),
            ("westus2.login.microsoft.com", "/common/oauth2/token", .v1),
            ("westus2.login.microsoft.com", "/\(fabrikam)/oauth2/v2.0/token", .v2),
            ("autologon.microsoftazuread-sso.com", "/\(fabrikam)/oauth2/token", .v1),
            ("LOGIN.microsoftonline.com.", "/\(fabrikam)/oauth2/v2.0/token", .v2),
            ("contoso.ciamlogin.com", "/\(fabrikam)/oauth2/v2.0/authorize", nil),
            ("contoso.ciamlogin.com", "/oauth2/token", nil),
            ("device.login.microsoftonline.com", "/\(fabrikam)/oauth2/token", nil),
            ("login.microsoftonline.com:443", "/\(fabrikam)/oauth2/token", nil),
        ] as [(String, String, TokenEndpoint.Version?)]
    )
    func tokenEndpointsOnEveryEntraHost(host: String, path: String, version: TokenEndpoint.Version?) {
        let endpoint = TokenEndpointMatcher(host: host).match(path: path)
        if case .entra(let cloud, let matched) = endpoint?.kind {
            #expect(cloud == .global)
            #expect(matched == version)
            #expect(endpoint?.host == HostName.canonical(host))
        } else {
            #expect(version == nil)
        }
    }

    @Test(arguments: [
        ("https://contoso.ciamlogin.com/\(fabrikam)/v2.0", true),
        ("https://\(fabrikam).ciamlogin.com/\(fabrikam)/v2.0", true),
        ("https://CONTOSO.ciamlogin.com/\(fabrikam)/v2.0/", true),
        ("https://LOGIN.microsoftonline.com/\(fabrikam)/v2.0", true),
        ("https://ciamlogin.com/\(fabrikam)/v2.0", false),
        ("https://contoso.ciamlogin.com/\(fabrikam)/", false),
        ("https://contoso.ciamlogin.com/\(fabrikam)", false),
        ("https://contoso.ciamlogin.com/not-a-guid/v2.0", false),
        ("https://contoso.ciamlogin.com.evil.example/\(fabrikam)/v2.0", false),
        ("https://contoso.ciamlogin.com:443/\(fabrikam)/v2.0", false),
        ("http://contoso.ciamlogin.com/\(fabrikam)/v2.0", false),
        ("https://westus2.login.microsoft.com/\(fabrikam)/v2.0", false),
        ("https://sts.windows.net/\(fabrikam)/v2.0", false),
    ])
    func externalIDIssuers(issuer: String, accepted: Bool) {
        let parsed = EntraIssuer.parse(issuer)
        #expect((parsed != nil) == accepted)
        if accepted {
            #expect(parsed?.tenant == TenantID(Self.fabrikam))
            #expect(parsed?.cloud == .global)
            #expect(parsed?.version == .v2)
        }
    }

    @Test func issuers() {
        #expect(EntraIssuer.parse("https://sts.windows.net/\(Self.fabrikam)/")?.version == .v1)
        // China's v1 issuer (review 54): of the China cloud, v1.
        let china = EntraIssuer.parse("https://sts.chinacloudapi.cn/\(Self.fabrikam)/")
        #expect(china?.cloud == .china && china?.version == .v1 && china?.tenant == TenantID(Self.fabrikam))
        #expect(EntraIssuer.parse("https://sts.chinacloudapi.cn/\(Self.fabrikam)/v2.0") == nil)
        #expect(
            EntraIssuer.parse("https://login.microsoftonline.com/\(Self.fabrikam)/v2.0")?.tenant
                == TenantID(Self.fabrikam)
        )
        #expect(EntraIssuer.parse("https://login.microsoftonline.us/\(Self.fabrikam)/v2.0")?.cloud == .usGovernment)
        #expect(EntraIssuer.parse("app.vstoken.visualstudio.com") == nil)
        #expect(EntraIssuer.parse("https://evil.example/\(Self.fabrikam)/v2.0") == nil)
        #expect(EntraIssuer.parse("https://sts.windows.net/not-a-guid/") == nil)
    }

    @Test func idTokenIsPreferredAndGuestHomeTenantIsRead() {
        let id = Self.token(
            #"{"iss":"https://login.microsoftonline.com/\#(Self.fabrikam)/v2.0","tid":"\#(Self.fabrikam)","idp":"https://sts.windows.net/\#(Self.northwind)/","oid":"o1","azp":"app"}"#
        )
        let body =
            #"{"access_token":"opaque-token","id_token":"\#(id)","client_info":"\#(Self.base64URL(#"{"uid":"u","utid":"\#(Self.northwind)"}"#))"}"#
        let evidence = TokenResponseInspector.inspect(body: Array(body.utf8), endpoint: Self.v2)
        #expect(evidence.signInTenant == TenantID(Self.fabrikam))
        #expect(evidence.tokenSource == .idToken)
        #expect(evidence.homeTenant == TenantID(Self.northwind))
        #expect(evidence.clientInfoHomeTenant == TenantID(Self.northwind))
        #expect(evidence.applicationID == "app")
    }

    /// A second token under a member name in another letter case, which Json.NET and Go's `encoding/json` read as
    /// the first, makes the answer unreadable (judged fail closed), not one of the first token's tenant (review 56).
    @Test(arguments: ["ACCESS_TOKEN", "Access_Token", "Id_Token"])
    func aTokenUnderANameInAnotherCaseMakesTheAnswerUnreadable(_ name: String) {
        let fabrikam = Self.token(#"{"iss":"https://sts.windows.net/\#(Self.fabrikam)/","tid":"\#(Self.fabrikam)"}"#)
        let northwind = Self.token(#"{"iss":"https://sts.windows.net/\#(Self.northwind)/","tid":"\#(Self.northwind)"}"#)
        let pair = #"{"id_token":"\#(fabrikam)","access_token":"\#(fabrikam)"}"#
        let readable = TokenResponseInspector.inspect(body: Array(pair.utf8), endpoint: Self.v2)
        #expect(readable.signInTenant == TenantID(Self.fabrikam), "\(readable)")
        let body = #"{"id_token":"\#(fabrikam)","access_token":"\#(fabrikam)","\#(name)":"\#(northwind)"}"#
        let evidence = TokenResponseInspector.inspect(body: Array(body.utf8), endpoint: Self.v2)
        #expect(evidence.signInTenant == nil)
        #expect(evidence.unreadableReason != nil)
        #expect(evidence.unreadableBodyNamesAToken)
    }

    /// Entra's ID token names its application only in `aud` and its user only with `profile`: the access token
    /// beside it fills what it left out, so an application or user block is not escaped by leaving `client_id` out
    /// of the form or `profile` out of the scope (review 25).
    @Test func theAccessTokenFillsWhatTheIDTokenLeftOut() {
        let id = Self.token(
            #"{"iss":"https://login.microsoftonline.com/\#(Self.fabrikam)/v2.0","tid":"\#(Self.fabrikam)","aud":"app"}"#
        )
        let access = Self.token(
            #"{"iss":"https://sts.windows.net/\#(Self.fabrikam)/","tid":"\#(Self.fabrikam)","oid":"o1","azp":"app","groups":["g1"]}"#
        )
        let body = #"{"access_token":"\#(access)","id_token":"\#(id)"}"#
        let evidence = TokenResponseInspector.inspect(body: Array(body.utf8), endpoint: Self.v2)
        #expect(evidence.tokenSource == .idToken)
        #expect(evidence.objectID == "o1")
        #expect(evidence.applicationID == "app")
        #expect(evidence.groupIDs == ["g1"])
    }

    /// A token that says the user is in more groups than it lists (Entra's overage: `_claim_names` with a Graph link,
    /// `hasgroups` in the implicit flow, or a list past what is kept) does not make the user a member of none: a block
    /// of named groups was escaped by a user in more than 200 groups.
    @Test func groupsLeftOutOfATokenAreNotTakenAsNone() {
        let issuer = #""iss":"https://sts.windows.net/\#(Self.fabrikam)/","tid":"\#(Self.fabrikam)","oid":"o1""#
        func evidence(_ idClaims: String, access accessClaims: String? = nil) -> TokenResponseEvidence {
            let id = #""id_token":"\#(Self.token("{\(issuer),\(idClaims)}"))""#
            let access = accessClaims.map { #","access_token":"\#(Self.token("{\(issuer),\($0)}"))""# } ?? ""
            return TokenResponseInspector.inspect(body: Array("{\(id)\(access)}".utf8), endpoint: Self.v2)
        }
        let overage = #""_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://graph"}}"#
        #expect(!evidence(overage).groupsListedInFull)
        #expect(!evidence(#""hasgroups":true"#).groupsListedInFull)
        let many = (0...256).map { #""g\#($0)""# }.joined(separator: ",")
        #expect(!evidence(#""groups":[\#(many)]"#).groupsListedInFull)
        #expect(evidence(#""groups":[\#(many)]"#).groupIDs.count == 256)
        // Listed, or named nowhere: known.
        #expect(evidence(#""groups":["g1"]"#).groupsListedInFull)
        #expect(evidence(#""aud":"app""#).groupsListedInFull)
        // The access token beside it lists what the ID token could not, or says it could not either.
        let filled = evidence(overage, access: #""groups":["g1"]"#)
        #expect(filled.groupsListedInFull && filled.groupIDs == ["g1"])
        #expect(!evidence(#""aud":"app""#, access: overage).groupsListedInFull)
        #expect(!evidence(overage, access: #""aud":"app""#).groupsListedInFull)
        #expect(evidence(#""groups":["g1"]"#, access: overage).groupIDs == ["g1"])
    }

    /// An ID token handed over alone (an authorize request's `form_post` or fragment) names its application in `aud`
    /// only: review 29's blocked application got one past a per-application block. An access token's `aud` is the
    /// resource, never the application.
    @Test func anIDTokenAloneNamesItsApplicationByItsAudience() {
        let id = Self.token(
            #"{"iss":"https://login.microsoftonline.com/\#(Self.fabrikam)/v2.0","tid":"\#(Self.fabrikam)","aud":"22222222-0000-4000-8000-000000000000"}"#
        )
        let alone = TokenResponseInspector.inspect(body: Array(#"{"id_token":"\#(id)"}"#.utf8), endpoint: Self.v2)
        #expect(alone.applicationID == "22222222-0000-4000-8000-000000000000")
        let access = Self.token(
            #"{"iss":"https://sts.windows.net/\#(Self.fabrikam)/","tid":"\#(Self.fabrikam)","aud":"https://graph.microsoft.com"}"#
        )
        let resource = TokenResponseInspector.inspect(
            body: Array(#"{"access_token":"\#(access)"}"#.utf8),
            endpoint: Self.v2
        )
        #expect(resource.signInTenant != nil && resource.applicationID == nil)
    }

    @Test func tidMustMatchTheIssuer() {
        let access = Self.token(#"{"iss":"https://sts.windows.net/\#(Self.fabrikam)/","tid":"\#(Self.northwind)"}"#)
        let evidence = TokenResponseInspector.inspect(
            body: Array(#"{"access_token":"\#(access)"}"#.utf8),
            endpoint: Self.v2
        )
        #expect(evidence.signInTenant == nil)
        #expect(evidence.unreadableReason?.contains("does not match") == true)
    }

    @Test func azureDevOpsTidIsNeverTrusted() {
        let endpoint = TokenEndpoint.match(host: "app.vssps.visualstudio.com", path: "/oauth2/token")!
        let access = Self.token(#"{"iss":"app.vstoken.visualstudio.com","tid":"\#(Self.northwind)"}"#)
        let evidence = TokenResponseInspector.inspect(
            body: Array(#"{"access_token":"\#(access)"}"#.utf8),
            endpoint: endpoint
        )
        #expect(evidence.isSuccess)
        #expect(evidence.signInTenant == nil)
        #expect(!evidence.isEntraToken)
    }

    /// The Microsoft account STS's ID token is Entra's format, of the personal-accounts tenant: read as that
    /// sign-in. A token it hands over naming any other tenant is not its to say, and is not read.
    @Test func theMicrosoftAccountSTSSpeaksForPersonalAccountsOnly() throws {
        let endpoint = try #require(TokenEndpoint.match(host: "LOGIN.live.com.", path: "/oauth20_token.srf"))
        func inspect(_ tenant: String) -> TokenResponseEvidence {
            let id = Self.token(#"{"iss":"https://login.microsoftonline.com/\#(tenant)/v2.0","tid":"\#(tenant)"}"#)
            return TokenResponseInspector.inspect(
                body: Array(#"{"access_token":"EwB4A8l6","id_token":"\#(id)"}"#.utf8),
                endpoint: endpoint
            )
        }
        let personal = inspect(TenantID.microsoftAccounts.description)
        #expect(personal.signInTenant == .microsoftAccounts && personal.tokenSource == .idToken)
        let another = inspect(Self.fabrikam)
        #expect(another.isSuccess && another.signInTenant == nil)
        #expect(another.unreadableReason?.contains("does not speak for") == true)
        // Review 56: another tenant's Entra token beside its own ID token is not passed as its sign-in alone.
        let personalID = Self.token(
            #"{"iss":"https://login.microsoftonline.com/\#(TenantID.microsoftAccounts)/v2.0","tid":"\#(TenantID.microsoftAccounts)"}"#
        )
        let northwind = Self.token(#"{"iss":"https://sts.windows.net/\#(Self.northwind)/","tid":"\#(Self.northwind)"}"#)
        let both = TokenResponseInspector.inspect(
            body: Array(#"{"access_token":"\#(northwind)","id_token":"\#(personalID)"}"#.utf8),
            endpoint: endpoint
        )
        #expect(both.signInTenant == nil)
        #expect(both.unreadableReason?.contains("does not speak for") == true)
    }

    @Test func encryptedOpaqueAndErrorResponses() {
        let jwe = "a.b.c.d.e"
        #expect(
            TokenResponseInspector.inspect(body: Array(#"{"access_token":"\#(jwe)"}"#.utf8), endpoint: Self.v2)
                .unreadableReason?.contains("encrypted") == true
        )
        let error = TokenResponseInspector.inspect(
            body: Array(#"{"error":"invalid_grant","error_codes":[70000]}"#.utf8),
            endpoint: Self.v2
        )
        #expect(!error.isSuccess)
        #expect(error.errorCode == "invalid_grant")
        #expect(error.errorCodes == [70000])
    }

    @Test func garbageNeverTraps() {
        var state: UInt64 = 7
        let alphabet = Array("eyJ.abc{}\"-_=:0123456789".utf8)
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 58)
            var bytes: [UInt8] = []
            for index in 0..<length {
                bytes.append(alphabet[Int((state >> UInt64(index % 50)) % UInt64(alphabet.count))])
            }
            _ = JWTClaimReader.claims(of: bytes)
            _ = TokenResponseInspector.inspect(body: bytes, endpoint: Self.v2)
            _ = TokenRequestSummary(formBody: bytes)
        }
    }
}
