/// Tokens that a response of an STS carries outside the token endpoint's JSON answer: a top-level
/// JSON member, a field of an OAuth `form_post` page (`<input name="id_token" value="…">`), or a parameter of a
/// redirect's fragment or query (`Location: …#access_token=…`). The implicit and hybrid flows hand tokens over this
/// way, so the proxy must judge them as it judges token responses. SAML-P, WS-Federation and WS-Trust hand over SAML
/// assertions (`FederationToken`): a `SAMLResponse` or `wresult` field, or an XML answer carrying a security token.
///
/// Structured places only: a page that merely mentions `id_token` (discovery documents, scripts) carries nothing.
package struct TokenCarriers: Sendable, Equatable {
    package var idToken: String?
    package var accessToken: String?
    /// A refresh token on its own still hands over credentials; it is not a JWT and shows no tenant.
    package var carriesRefreshToken = false
    /// A token an STS that is not Entra hands over in a member of its own naming (`scan`'s `ownTokenMembers`):
    /// nothing of it is read, as such a token is never judged by its claims; that it is there is enough.
    package var carriesOwnToken = false
    /// A SAML assertion (the first one found).
    package var federationToken: FederationToken?
    /// Why the tokens found cannot stand for the answer: one name given twice, or a redirect with token parameters
    /// both in its query and in its fragment. An STS hands each token over once, in one place; the second one is a
    /// decoy someone put in a registered redirect URI's query, and either may be the one the client keeps.
    package var ambiguity: String?

    package var carriesTokens: Bool {
        idToken != nil || accessToken != nil || carriesRefreshToken || carriesOwnToken || federationToken != nil
    }

    package init() {}

    private static let jsonMembers = MemberNames(ignoringCase: "access_token", "id_token", "refresh_token")
    /// Pages larger than this are not scanned for form fields (the inspection limit bounds them anyway).
    private static let maxScannedBytes = 4 << 20

    /// Scans a response: its content types (one, as a rule), its (decoded) body and its `Location` header.
    ///
    /// A body that names a token where it cannot be read as its type says (JSON that is not one readable object,
    /// a type that is absent, given twice or none of JSON, HTML and XML, which a browser sniffs or a lenient client
    /// parses anyway) is ambiguous: judged as unreadable, not passed as carrying nothing.
    ///
    /// With `ownTokenMembers` (an STS that is not Entra), a member whose name ends in `token` anywhere in the body
    /// hands over a token too: Azure DevOps' session-token API answers `{"token": …}`, its PAT API
    /// `{"patToken": {…, "token": …}}`, never OAuth's `access_token` (review 33).
    package static func scan(
        contentTypes: [String],
        body: some Collection<UInt8>,
        location: String?,
        ownTokenMembers: Bool = false
    ) -> TokenCarriers {
        var found = TokenCarriers()
        if let location { found.readParameters(ofURL: location) }
        if ownTokenMembers { found.carriesOwnToken = Self.namesATokenMember(body) }
        let type = contentTypes.count == 1 ? contentTypes[0].lowercased() : ""
        if type.contains("json") {
            guard let object = JSONObjectScanner.members(of: body, wanted: jsonMembers) else {
                found.noteUnreadable(body, "the JSON answer names a token but is not one object that can be read")
                return found
            }
            if let token = object["id_token"]?.string { found.keep(token, at: \.idToken, named: "id_token") }
            if let token = object["access_token"]?.string {
                found.keep(token, at: \.accessToken, named: "access_token")
            }
            if object["refresh_token"] != nil { found.carriesRefreshToken = true }
        } else if type.contains("html") {
            guard body.count <= maxScannedBytes else { return found }
            found.readFormFields(Array(body))
        } else if type.contains("xml") {
            found.readSecurityTokenResponse(Array(body))
        } else {
            found.noteUnreadable(body, "the answer names a token but its content type does not say how to read it")
        }
        return found
    }

    /// Marks the answer ambiguous when `body` names a token.
    private mutating func noteUnreadable(_ body: some Collection<UInt8>, _ why: String) {
        if Self.namesAToken(body) { ambiguity = ambiguity ?? why }
    }

    /// Whether `body` names a token (`id_token`, `access_token`, `refresh_token`) as a lenient reader would find it:
    /// in any letter case, in UTF-16 or UTF-32 (NUL bytes skipped), or with a character escaped as JSON's `\u005f`.
    static func namesAToken(_ body: some Collection<UInt8>) -> Bool {
        guard body.count <= maxScannedBytes else { return true }
        let folded = foldedForSearch(body)
        return ["id_token", "access_token", "refresh_token"].contains {
            find(Array($0.utf8), in: folded, from: 0) != nil
        }
    }

    /// Whether `body` has a member whose name ends in `token` (`"token"`, `"patToken"`, `"access_token"`) with a
    /// value other than `null`, as a lenient reader would find it: in any letter case, NUL bytes skipped, `\u00XX`
    /// escapes read, at any depth. Whatever its content type says: a client of such an API parses the body as JSON.
    static func namesATokenMember(_ body: some Collection<UInt8>) -> Bool {
        guard body.count <= maxScannedBytes else { return true }
        let folded = foldedForSearch(body)
        let name = Array(#"token""#.utf8)
        var start = 0
        while let found = find(name, in: folded, from: start) {
            start = found + name.count
            var index = start
            while index < folded.count, ByteText.isWhiteSpace(folded[index]) { index += 1 }
            guard index < folded.count, folded[index] == UInt8(ascii: ":") else { continue }
            index += 1
            while index < folded.count, ByteText.isWhiteSpace(folded[index]) { index += 1 }
            if !folded[index...].starts(with: "null".utf8) { return true }
        }
        return false
    }

    /// `body` in lower case, NUL bytes skipped, JSON's `\u00XX` escapes of ASCII read, and the letters beyond ASCII
    /// that lenient readers fold into ASCII ones folded (`ByteText.foldedLetter`, review 58).
    private static func foldedForSearch(_ body: some Collection<UInt8>) -> [UInt8] {
        let bytes = body.filter { $0 != 0 }
        var folded: [UInt8] = []
        folded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let (letter, length) = ByteText.foldedLetter(in: bytes, at: index, escapes: true) {
                folded.append(letter)
                index += length
                continue
            }
            var byte = bytes[index]
            if let escaped = FormText.asciiEscape(in: bytes, at: index, lead: UInt8(ascii: "\\")) {
                byte = escaped
                index += 5
            }
            folded.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
            index += 1
        }
        return folded
    }

    /// A WS-Trust answer (SOAP): a `RequestSecurityTokenResponse` hands over a token.
    private mutating func readSecurityTokenResponse(_ body: [UInt8]) {
        guard Self.find(Array("requestsecuritytokenresponse".utf8), in: body, from: 0) != nil else { return }
        federationToken =
            body.count <= Self.maxScannedBytes
            ? FederationToken.read(xml: body) : .unreadable("a WS-Trust answer larger than 4 MiB")
    }

    /// `#a=b&c=d` and `?a=b&c=d` of a redirect target.
    private mutating func readParameters(ofURL url: String) {
        let bytes = Array(url.utf8)
        guard let start = bytes.firstIndex(where: { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "?") }) else {
            return
        }
        var inFragment = bytes[start] == UInt8(ascii: "#")
        var tokenPlaces: Set<Bool> = []
        var pairStart = start + 1
        for index in (start + 1)...bytes.count {
            let byte = index < bytes.count ? bytes[index] : UInt8(ascii: "&")
            guard [UInt8(ascii: "&"), UInt8(ascii: "#"), UInt8(ascii: "?")].contains(byte) else { continue }
            let pair = bytes[pairStart..<index]
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            // Names are decoded as values are: a browser's URLSearchParams reads `id%5Ftoken` as `id_token`.
            if parts.count == 2,
                record(
                    name: FormText.decodedBytes(parts[0], limit: 64),
                    value: FormText.decodedBytes(parts[1], limit: .max),
                    inURL: true
                )
            {
                tokenPlaces.insert(inFragment)
            }
            if byte == UInt8(ascii: "#") { inFragment = true }
            pairStart = index + 1
        }
        if tokenPlaces.count > 1 {
            ambiguity = ambiguity ?? "the redirect carries tokens both in its query and in its fragment"
        }
    }

    /// The fields the page would submit (`HTMLFormFields`).
    private mutating func readFormFields(_ page: [UInt8]) {
        for field in HTMLFormFields.read(page) { record(name: field.name, value: field.value, inURL: false) }
    }

    /// Records a form field or, with `inURL`, a redirect's parameter; says whether it hands over a token. A redirect
    /// never hands over an assertion (SAML profiles 4.1.2: the redirect binding is not used for a response carrying
    /// one); its `SAMLResponse` is a logout's.
    @discardableResult
    private mutating func record(name: [UInt8], value: [UInt8], inURL: Bool) -> Bool {
        guard !value.isEmpty else { return false }
        // Named as a lenient reader (ASP.NET's form collection) matches names: in any case, ſ and ı folded too.
        let name = name.withUnsafeBufferPointer(ByteText.foldedName)
        if !inURL, name.elementsEqual("samlresponse".utf8) {
            federationToken = federationToken ?? FederationToken.read(samlResponse: value)
        }
        if !inURL, name.elementsEqual("wresult".utf8) {
            federationToken = federationToken ?? FederationToken.read(escapedXML: value)
        }
        if name.elementsEqual("id_token".utf8) {
            keep(String(decoding: value, as: UTF8.self), at: \.idToken, named: "id_token")
        } else if name.elementsEqual("access_token".utf8) {
            keep(String(decoding: value, as: UTF8.self), at: \.accessToken, named: "access_token")
        } else if name.elementsEqual("refresh_token".utf8) {
            carriesRefreshToken = true
        } else {
            return false
        }
        return true
    }

    /// The first value of a token's name is kept; a second one makes the answer ambiguous.
    private mutating func keep(_ value: String, at slot: WritableKeyPath<TokenCarriers, String?>, named name: String) {
        guard self[keyPath: slot] == nil else {
            ambiguity = ambiguity ?? "the answer carries \(name) more than once"
            return
        }
        self[keyPath: slot] = value
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        HTMLFormFields.find(needle, in: haystack, from: start)
    }
}

extension TokenEndpoint {
    /// What a token-carrying response of an STS outside its token endpoint stands for: the host's STS, and the
    /// tenant segment of a `/{tenant}/oauth2/…` path (authorize pages), so that it is judged like a token response.
    /// Nil for hosts that are not STSs.
    package static func flow(host: String, path: String) -> TokenEndpoint? {
        if let cloud = STSHosts.entraCloud(forHost: host) {
            let segments = path.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
            // `/{tenant}/oauth2/…`, `/{tenant}/saml2`, `/{tenant}/wsfed`.
            let tenant =
                segments.count >= 2
                    && ["oauth2", "saml2", "wsfed"].contains { segments[1].utf8.equalsIgnoringASCIICase($0) }
                ? String(segments[0]) : nil
            return TokenEndpoint(host: host, kind: .entra(cloud, version: .v2), tenantSegment: tenant)
        }
        return STSHosts.isKnownNonEntraSTS(host) ? TokenEndpoint(host: host, kind: .nonEntra, tenantSegment: nil) : nil
    }
}
