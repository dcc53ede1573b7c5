import TenantPolicy
import TestSupport
import Testing
import TokenInspection

/// Tokens handed over outside the token endpoint, when more than one is there: an STS hands each token over once,
/// in one place, so a second one (a decoy in a registered redirect URI's query) makes the answer unreadable rather
/// than letting either stand for it.
struct TokenCarriersTests {
    static let contoso = UnsignedTokens.graph(tenant: ExampleTenants.contoso)
    static let northwind = UnsignedTokens.graph(tenant: ExampleTenants.northwind)
    static let endpoint = TokenEndpoint.flow(host: "login.microsoftonline.com", path: "/common/oauth2/v2.0/authorize")!

    static func evidence(location: String) -> TokenResponseEvidence {
        TokenResponseInspector.inspect(
            TokenCarriers.scan(contentTypes: [], body: [UInt8](), location: location),
            endpoint: endpoint
        )
    }

    @Test(
        arguments: [
            ("https://app.example/cb?id_token=\(contoso)#id_token=\(northwind)", "id_token more than once"),
            ("https://app.example/cb#id_token=\(northwind)&id_token=\(contoso)", "id_token more than once"),
            ("https://app.example/cb?id_token=\(contoso)#access_token=\(northwind)", "query and in its fragment"),
            ("https://app.example/cb?access_token=\(contoso)#id_token=\(northwind)", "query and in its fragment"),
            ("https://app.example/cb#id_token=\(contoso)&access_token=\(northwind)", "tokens of two tenants"),
        ]
    )
    func aSecondTokenMakesTheRedirectUnreadable(location: String, reason: String) {
        let evidence = Self.evidence(location: location)
        #expect(evidence.signInTenant == nil)
        #expect(evidence.isSuccess, "it still hands over tokens: judged as unreadable, not as carrying none")
        #expect(evidence.unreadableReason?.contains(reason) == true, "\(evidence.unreadableReason ?? "none")")
    }

    @Test func theHybridFlowsTokensOfOneTenantAreRead() {
        let other = UnsignedTokens.graph(tenant: ExampleTenants.contoso, appID: "22222222-3333-4444-5555-666666666666")
        let evidence = Self.evidence(
            location: "https://app.example/cb?state=s#id_token=\(Self.contoso)&access_token=\(other)"
        )
        #expect(evidence.signInTenant == ExampleTenants.contoso, "\(evidence.unreadableReason ?? "")")
    }

    @Test func aFormPostPageWithTwoIDTokensIsUnreadable() {
        let page = """
            <form method="post"><input type="hidden" name="id_token" value="\(Self.contoso)"/>\
            <input type="hidden" name="id_token" value="\(Self.northwind)"/></form>
            """
        let evidence = TokenResponseInspector.inspect(
            TokenCarriers.scan(contentTypes: ["text/html"], body: Array(page.utf8), location: nil),
            endpoint: Self.endpoint
        )
        #expect(evidence.signInTenant == nil)
        #expect(evidence.unreadableReason?.contains("more than once") == true)
    }

    /// A body that names a token where it cannot be read as its type says is ambiguous (judged as unreadable); one that
    /// reads as its type says and carries none passes.
    @Test(
        arguments: [
            (["application/json"], #"{"id_token":"A","id_token":"B"}"#, true),
            (["application/json"], "\u{FEFF}{\"id_token\":\"A\"}", true),
            ([], #"{"id_token":"A"}"#, true),
            (["text/plain"], #"{"access_token":"A"}"#, true),
            (["text/plain", "text/html"], #"<input name="id_token" value="A">"#, true),
            (["application/json"], #"{"response_types_supported":["code","id_token"]}"#, false),
            (["text/html"], #"<script>var types = ["id_token"];</script>"#, false),
            ([], "<html>signed out</html>", false),
        ]
    )
    func aTokenNamedWhereItCannotBeReadIsAmbiguous(types: [String], body: String, ambiguous: Bool) {
        let carriers = TokenCarriers.scan(contentTypes: types, body: Array(body.utf8), location: nil)
        #expect((carriers.ambiguity != nil) == ambiguous, "\(types) \(body): \(carriers.ambiguity ?? "none")")
    }

    /// A redirect's parameter names are decoded as a browser's URLSearchParams decodes them.
    @Test func anEscapedParameterNameIsRead() {
        let evidence = Self.evidence(location: "https://app.example/cb#id%5Ftoken=\(Self.northwind)")
        #expect(evidence.signInTenant == ExampleTenants.northwind)
    }

    /// A form field spelt as a browser still reads it is read: character references, `/` and any HTML white space
    /// between attributes (an unquoted value runs on through `/`, as a browser's does), white space around `=`, a `>` inside a quoted value, a text area.
    @Test(
        arguments: [
            #"<input type="hidden" name="id&#95;token" value="@">"#,
            #"<input/type="hidden"/name="id_token"/value="@">"#,
            "<input type=hidden name\t=\t\"id_token\" value=@>",
            "<input\u{0C}name=id_token\u{0C}value=@>",
            #"<input title=">" name="id_token" value="@">"#,
            #"<INPUT NAME='ID_TOKEN' VALUE='@'/>"#,
            #"<textarea name="id_token">@</textarea>"#,
            #"<input name="id&lowbar;token" value="@">"#,
            #"<input name="id&UnderBar;token" value="@">"#,
            #"<input name="id&#95token" value="@">"#,
            #"<input name="id&#x5Ftoken" value="@">"#,
            #"<input name="id&#0000000000095;token" value="@">"#,
            #"<select name="id_token" hidden><option>other<option selected value="@"></select>"#,
            #"<select name="id_token"><option>@</option></select>"#,
            // Folded as ASP.NET's form collection folds names (review 58).
            "<input name=\"\u{131}d_token\" value=\"@\">",
            // A look-alike that a browser reads as text must not swallow the real field.
            #"<p title="<input x='"><input type="hidden" name="id_token" value="@"/><p title='x'>"#,
            #"<!-- <input x=' --><input type="hidden" name="id_token" value="@"/><p title='x'>"#,
            #"<script>var a="<input x='";</script><input type="hidden" name="id_token" value="@"/><b title='x'>"#,
        ]
    )
    func aFieldSpeltAsABrowserReadsItIsRead(_ field: String) {
        let page =
            "<html><body><form method=post>"
            + field.split(separator: "@", omittingEmptySubsequences: false)
            .joined(separator: Self.northwind)
        let carriers = TokenCarriers.scan(contentTypes: ["text/html"], body: Array(page.utf8), location: nil)
        #expect(carriers.idToken == Self.northwind, "\(field)")
    }

    /// A page that ends inside a tag (the fuzzer's crash: the reader stepped past the end) reads as far as it goes.
    @Test(arguments: ["<input", "<input ", "<input name=id_token value=@", "<textarea name=id_token", "<input name='"])
    func aPageThatEndsInsideATagIsReadWithoutATrap(_ page: String) {
        let bytes = Array(page.split(separator: "@", omittingEmptySubsequences: false).joined(separator: "x").utf8)
        let carriers = TokenCarriers.scan(contentTypes: ["text/html"], body: bytes, location: nil)
        #expect(carriers.ambiguity == nil)
    }
}

/// Azure DevOps' own token APIs hand a token over in members of their own naming, never OAuth's (review 33: its
/// session-token answer passed `--non-entra-sts block` and was not audited).
struct OwnTokenMemberTests {
    static func carriesOwnToken(_ body: [UInt8], type: String = "application/json") -> Bool {
        TokenCarriers.scan(contentTypes: [type], body: body, location: nil, ownTokenMembers: true).carriesOwnToken
    }

    @Test(
        arguments: [
            #"{"authorizationId":"a1","scope":"vso.code","token":"eyJ0eXAi.x.y"}"#,
            #"{"patToken":{"displayName":"p","token":"abc"},"patTokenError":"none"}"#,
            #"{"value":[{"Token" : "abc"}]}"#,
            #"{"\u0074oken":"abc"}"#,
            #"{"tok\u0065n":"abc"}"#,
            #"{"access_token":"abc"}"#,
            // Letters beyond ASCII that Go's and .NET's readers fold into ASCII ones (review 58).
            "{\"to\u{212A}en\":\"abc\"}",
            #"{"to\u212Aen":"abc"}"#,
        ]
    )
    func aTokenMemberOfAnySpellingIsFound(_ body: String) {
        #expect(Self.carriesOwnToken(Array(body.utf8)), "\(body)")
        #expect(Self.carriesOwnToken(Array(body.utf8), type: "text/plain"), "whatever the type says: \(body)")
    }

    @Test func aBodyInUTF16IsReadToo() {
        let body = #"{"token":"abc"}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(Self.carriesOwnToken(body))
    }

    @Test(
        arguments: [
            #"{"value":[{"token":null}],"count":1}"#,
            #"{"tokenType":"session","scope":"vso.tokens"}"#,
            #"{"message":"the token\" is invalid"}"#,
            "{}",
        ]
    )
    func noTokenMemberOrANullOneIsNone(_ body: String) {
        #expect(!Self.carriesOwnToken(Array(body.utf8)), "\(body)")
    }

    @Test func onlyAnSTSThatIsNotEntraIsReadThisWay() {
        let body = Array(#"{"token":"abc"}"#.utf8)
        #expect(!TokenCarriers.scan(contentTypes: ["application/json"], body: body, location: nil).carriesTokens)
    }
}
