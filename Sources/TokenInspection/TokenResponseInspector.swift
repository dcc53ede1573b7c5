import TenantPolicy

/// Reads a token endpoint's JSON answer into `TokenResponseEvidence` (SPEC 3 "What the proxy sees").
///
/// Prefers the ID token; uses the access token when it is an Entra JWS (Microsoft's own APIs may get encrypted or
/// opaque access tokens). A `tid` counts only when it is a GUID equal to the GUID of an Entra `iss`.
package enum TokenResponseInspector {
    private static let members = MemberNames(
        ignoringCase: "access_token",
        "id_token",
        "client_info",
        "error",
        "error_codes"
    )

    package static func inspect(body: some Collection<UInt8>, endpoint: TokenEndpoint) -> TokenResponseEvidence {
        var evidence = TokenResponseEvidence()
        guard let object = JSONObjectScanner.members(of: body, wanted: members) else {
            evidence.unreadableReason = "the response body is not a JSON object"
            evidence.unreadableBodyNamesAToken = TokenCarriers.namesAToken(body)
            return evidence
        }
        let accessToken = object["access_token"]?.string
        let idToken = object["id_token"]?.string
        evidence.isSuccess = accessToken != nil || idToken != nil
        if !evidence.isSuccess {
            evidence.errorCode = object["error"]?.string.map { String($0.prefix(64)) }
            if case .array(let codes) = object["error_codes"] {
                evidence.errorCodes = codes.compactMap { $0.number.flatMap { Int(exactly: $0) } }
            }
            evidence.unreadableReason = "the response carries no token"
            return evidence
        }
        if let clientInfo = object["client_info"]?.string { readClientInfo(clientInfo, into: &evidence) }
        readTokens(idToken: idToken, accessToken: accessToken, endpoint: endpoint, into: &evidence)
        return evidence
    }

    /// The evidence of tokens handed over outside the token endpoint (`TokenCarriers`).
    package static func inspect(_ carriers: TokenCarriers, endpoint: TokenEndpoint) -> TokenResponseEvidence {
        var evidence = TokenResponseEvidence()
        evidence.isSuccess = carriers.carriesTokens
        if let ambiguity = carriers.ambiguity {
            evidence.unreadableReason = ambiguity
            return evidence
        }
        if carriers.idToken != nil || carriers.accessToken != nil {
            readTokens(
                idToken: carriers.idToken,
                accessToken: carriers.accessToken,
                endpoint: endpoint,
                into: &evidence
            )
        }
        switch carriers.federationToken {
        case nil:
            if evidence.signInTenant == nil, evidence.unreadableReason == nil {
                evidence.unreadableReason = "only a refresh token, which names no tenant"
            }
        case .unreadable(let why):
            // Whatever a JWT beside it says, this token's tenant is unknown.
            evidence.signInTenant = nil
            evidence.unreadableReason = why
        case .issued(let claims):
            guard case .entra = endpoint.kind else {
                // Another STS's assertion may name any issuer it likes.
                evidence.signInTenant = nil
                evidence.unreadableReason = "a SAML assertion of an STS that is not Entra"
                return evidence
            }
            let tenant = claims.issuer.tenant
            if let read = evidence.signInTenant, read != tenant {
                handsOverTwoTenants(&evidence)
            } else if evidence.signInTenant == nil, carriers.idToken == nil, carriers.accessToken == nil {
                evidence.signInTenant = tenant
                evidence.issuerCloud = claims.issuer.cloud
                evidence.tokenSource = .samlAssertion
                evidence.isEntraToken = true
                evidence.homeTenant = homeTenant(idp: claims.identityProvider, signIn: tenant)
                evidence.objectID = claims.objectID
                evidence.groupIDs = claims.groupIDs
                evidence.groupsListedInFull = claims.groupsListedInFull
            }
        }
        return evidence
    }

    /// The evidence of a bearer token sent to a resource: its claims when it is an Entra JWS, read without
    /// verifying the signature (Microsoft's tokens for its own APIs cannot be verified by third parties; a forged
    /// `tid` gains nothing, as the resource rejects the token).
    package static func evidence(ofBearer token: String) -> TokenResponseEvidence {
        var evidence = TokenResponseEvidence()
        evidence.isSuccess = true
        switch entraClaims(of: token) {
        case .success(let (claims, issuer)):
            record(claims, issuer, source: .accessToken, into: &evidence)
        case .failure(let reason):
            evidence.unreadableReason = reason.description
        }
        return evidence
    }

    private static func record(
        _ claims: TokenClaims,
        _ issuer: EntraIssuer.Parsed,
        source: TokenResponseEvidence.TokenSource,
        into evidence: inout TokenResponseEvidence
    ) {
        evidence.signInTenant = issuer.tenant
        evidence.tokenSource = source
        evidence.issuerCloud = issuer.cloud
        evidence.isEntraToken = true
        evidence.objectID = claims.oid
        evidence.groupIDs = claims.groups
        evidence.groupsListedInFull = claims.groupsListedInFull
        // Entra's ID token names its application only in `aud` (review 29: an ID token handed over by an authorize
        // request, with no access token beside it, was judged with no application, past per-application blocks).
        evidence.applicationID = claims.applicationID ?? (source == .idToken ? claims.aud : nil)
        evidence.homeTenant = homeTenant(idp: claims.idp, signIn: issuer.tenant)
        evidence.expiry = claims.exp
    }

    /// The sign-in tenant and the claims decisions use, from the ID token if it is an Entra JWS, else the access
    /// token if it is one. Of the STSs that are not Entra, only the Microsoft account STS's are read, and only a
    /// token of the personal-accounts tenant: a personal-account sign-in refused at Entra's own hosts is refused
    /// there too (review 36 F2), and what it says of any other tenant is not its to say.
    private static func readTokens(
        idToken: String?,
        accessToken: String?,
        endpoint: TokenEndpoint,
        into evidence: inout TokenResponseEvidence
    ) {
        let onlyTenant: TenantID?
        switch endpoint.kind {
        case .entra:
            onlyTenant = nil
        case .nonEntra where HostName.canonical(endpoint.host) == STSHosts.microsoftAccountSTS:
            onlyTenant = .microsoftAccounts
        case .nonEntra:
            evidence.unreadableReason = "\(endpoint.host) is not an Entra STS; its claims are not trusted"
            return
        }
        var reasons: [String] = []
        var readTenant: TenantID?
        var foreignToken = false
        for (source, token) in [(TokenResponseEvidence.TokenSource.idToken, idToken), (.accessToken, accessToken)] {
            guard let token else { continue }
            switch entraClaims(of: token) {
            case .success(let (_, issuer)) where onlyTenant.map({ $0 != issuer.tenant }) ?? false:
                reasons.append(
                    "\(source.rawValue): a token of tenant \(issuer.tenant), which \(endpoint.host) does not speak for"
                )
                foreignToken = true
            case .success(let (claims, issuer)):
                // The first readable token decides; one of another tenant beside it makes the answer unreadable.
                if let readTenant {
                    if issuer.tenant != readTenant { return handsOverTwoTenants(&evidence) }
                    fillGaps(from: claims, issuer, into: &evidence)
                    continue
                }
                readTenant = issuer.tenant
                record(claims, issuer, source: source, into: &evidence)
            case .failure(let reason):
                reasons.append("\(source.rawValue): \(reason)")
            }
        }
        // A token of a tenant it does not speak for beside its own: the answer is not its own sign-in alone, so it is
        // not judged as one (review 56: a Northwind token passed as a personal-account sign-in).
        if readTenant == nil || foreignToken {
            evidence.signInTenant = nil
            evidence.unreadableReason = reasons.joined(separator: "; ")
        }
    }

    /// Entra's ID token names its application only in `aud`, and its user only with the `profile` scope; the access
    /// token beside it names both (`azp`/`appid`, `oid`). What the first token left out, the second tells: else a
    /// client that left `client_id` out of the form (HTTP Basic) or `profile` out of the scope was judged as an
    /// unknown application or user, which only `AllApplications`/`AllUsers` targets match (review 25).
    private static func fillGaps(
        from claims: TokenClaims,
        _ issuer: EntraIssuer.Parsed,
        into evidence: inout TokenResponseEvidence
    ) {
        if evidence.objectID == nil { evidence.objectID = claims.oid }
        if evidence.applicationID == nil { evidence.applicationID = claims.applicationID }
        // Groups the first token did not name, or said it could not list, the second may list.
        let firstNamedNone = evidence.groupIDs.isEmpty && evidence.groupsListedInFull
        let secondListsThem = claims.groupsListedInFull && !claims.groups.isEmpty
        if firstNamedNone || (!evidence.groupsListedInFull && secondListsThem) {
            evidence.groupIDs = claims.groups
            evidence.groupsListedInFull = claims.groupsListedInFull
        }
        if evidence.homeTenant == nil { evidence.homeTenant = homeTenant(idp: claims.idp, signIn: issuer.tenant) }
    }

    private static func handsOverTwoTenants(_ evidence: inout TokenResponseEvidence) {
        evidence.signInTenant = nil
        evidence.unreadableReason = "the answer hands over tokens of two tenants"
    }

    /// The claims of an Entra JWS whose `tid` is a GUID equal to its issuer's, or why not.
    static func entraClaims(of token: String) -> Result<(TokenClaims, EntraIssuer.Parsed), ReasonText> {
        let claims: TokenClaims
        switch JWTClaimReader.claims(of: token) {
        case .failure(let error): return .failure(ReasonText(error.message))
        case .success(let read): claims = read
        }
        guard let iss = claims.iss, let issuer = EntraIssuer.parse(iss) else {
            return .failure(ReasonText("the issuer is not Microsoft Entra"))
        }
        guard let tid = claims.tid, let tenant = TenantID(tid) else {
            return .failure(ReasonText("the tid claim is missing or not a GUID"))
        }
        guard tenant == issuer.tenant else {
            return .failure(ReasonText("the tid claim does not match the tenant of the issuer"))
        }
        return .success((claims, issuer))
    }

    /// A guest's home tenant: an `idp` naming another Entra tenant, or a personal Microsoft account.
    static func homeTenant(idp: String?, signIn: TenantID) -> TenantID? {
        guard let idp else { return nil }
        if let issuer = EntraIssuer.parse(idp) { return issuer.tenant == signIn ? nil : issuer.tenant }
        if idp == "live.com" || idp.contains(TenantID.microsoftAccounts.description) { return .microsoftAccounts }
        return nil
    }

    private static let clientInfoMembers: MemberNames = ["utid", "uid"]

    /// MSAL's `client_info`: base64url JSON with the user's home tenant (`utid`) and home object ID (`uid`).
    private static func readClientInfo(_ text: String, into evidence: inout TokenResponseEvidence) {
        var text = text
        guard text.utf8.count <= 4096, let data = text.withUTF8({ JWTClaimReader.base64URLDecoded($0) }),
            let object = JSONObjectScanner.members(of: data, wanted: clientInfoMembers)
        else { return }
        evidence.clientInfoHomeTenant = object["utid"]?.string.flatMap { TenantID($0) }
        evidence.clientInfoHomeObjectID = object["uid"]?.string.map { String($0.prefix(64)) }
    }
}

/// A reason sentence carried through a `Result`.
package struct ReasonText: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
