import TenantPolicy

/// What a token response shows about the tenants involved (SPEC 3), and why, when it shows nothing.
public struct TokenResponseEvidence: Sendable, Equatable {
    public enum TokenSource: String, Sendable, Equatable {
        case idToken = "id_token"
        case accessToken = "access_token"
        case none
    }

    /// The body carries a token (`access_token` or `id_token`).
    public var isSuccess = false
    /// The STS's `error`, for error responses.
    public var errorCode: String?
    public var errorCodes: [Int] = []
    /// The tenant signed in to: the `tid` of an Entra-issued JWS whose issuer names the same GUID.
    public var signInTenant: TenantID?
    public var tokenSource = TokenSource.none
    public var issuerCloud: EntraCloud?
    /// A guest's home tenant, from an `idp` naming another Entra tenant (MSA accounts: the consumer tenant).
    public var homeTenant: TenantID?
    public var objectID: String?
    /// The `groups` claim: the user's groups in the tenant that issued the token.
    public var groupIDs: [String] = []
    public var applicationID: String?
    /// From `client_info` (MSAL): the user's home tenant and home object ID, never the sign-in tenant.
    public var clientInfoHomeTenant: TenantID?
    public var clientInfoHomeObjectID: String?
    /// False for responses of non-Entra STSs: their claims are never trusted.
    public var isEntraToken = false
    /// Why no sign-in tenant could be read from a successful response.
    public var unreadableReason: String?

    public init() {}
}
