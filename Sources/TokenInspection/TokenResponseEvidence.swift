import TenantPolicy

/// What a token response shows about the tenants involved (SPEC 3), and why, when it shows nothing.
package struct TokenResponseEvidence: Sendable, Equatable {
    package enum TokenSource: String, Sendable, Equatable {
        case idToken = "id_token"
        case accessToken = "access_token"
        case samlAssertion = "saml_assertion"
        case none
    }

    /// The body carries a token (`access_token` or `id_token`).
    package var isSuccess = false
    /// The STS's `error`, for error responses.
    package var errorCode: String?
    package var errorCodes: [Int] = []
    /// The tenant signed in to: the `tid` of an Entra-issued JWS whose issuer names the same GUID.
    package var signInTenant: TenantID?
    package var tokenSource = TokenSource.none
    package var issuerCloud: EntraCloud?
    /// A guest's home tenant, from an `idp` naming another Entra tenant (MSA accounts: the consumer tenant).
    package var homeTenant: TenantID?
    package var objectID: String?
    /// The `groups` claim: the user's groups in the tenant that issued the token.
    package var groupIDs: [String] = []
    /// False when the token says the user has groups it does not list (overage): see `TokenClaims`.
    package var groupsListedInFull = true
    package var applicationID: String?
    /// From `client_info` (MSAL): the user's home tenant and home object ID, never the sign-in tenant.
    package var clientInfoHomeTenant: TenantID?
    package var clientInfoHomeObjectID: String?
    /// False for responses of non-Entra STSs: their claims are never trusted.
    package var isEntraToken = false
    /// When the token read expires (`exp`, seconds since 1970).
    package var expiry: Double?
    /// Why no sign-in tenant could be read from a successful response.
    package var unreadableReason: String?
    /// The body is not a JSON object the scanner reads (a duplicate member, a byte order mark, another encoding,
    /// bytes after it) and names a token: what a lenient client reads in it may be one, whatever the status. An error
    /// page (HTML, text) that names none is not.
    package var unreadableBodyNamesAToken = false

    package init() {}
}
