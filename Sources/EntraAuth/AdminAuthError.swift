/// Why a call to the admin API is refused, and how to say so over HTTP (RFC 6750 section 3).
///
/// The texts are fixed sentences: they never repeat the token or any claim from it, so they are safe to log and to
/// send back to the caller.
package enum AdminAuthError: Error, Hashable, Sendable, CustomStringConvertible {
    /// No acceptable bearer token: HTTP 401.
    case unauthenticated(AuthenticationFailure)
    /// A valid token without a role that grants the area: HTTP 403.
    case forbidden(AdminArea)

    package var httpStatus: Int {
        switch self {
        case .unauthenticated: 401
        case .forbidden: 403
        }
    }

    /// The `WWW-Authenticate` value to send with the answer. A request without credentials gets no error code,
    /// as RFC 6750 section 3.1 asks.
    package var wwwAuthenticate: String {
        switch self {
        case .unauthenticated(.missingCredentials):
            "Bearer"
        case .unauthenticated:
            #"Bearer error="invalid_token", error_description="\#(description)""#
        case .forbidden:
            #"Bearer error="insufficient_scope", error_description="\#(description)""#
        }
    }

    package var description: String {
        switch self {
        case .unauthenticated(let failure): failure.description
        case .forbidden(let area):
            "\(area) need the "
                + area.grantingRoles.map(\.description).sorted().joined(separator: " or ") + " role"
        }
    }
}

/// The specific reason a bearer token was not accepted (admin callers and makers alike).
package enum AuthenticationFailure: Error, Hashable, Sendable, CustomStringConvertible {
    case missingCredentials
    case notBearer
    case malformedToken
    case unsupportedCriticalHeader
    case missingKeyID
    case signingKeysUnavailable
    case unknownKey
    case algorithmNotAllowed
    case invalidSignature
    case missingTenant
    case invalidTenant
    case wrongIssuer
    case wrongAudience
    case missingExpiry
    case expired
    case notYetValid

    package var description: String {
        switch self {
        case .missingCredentials: "no Authorization header"
        case .notBearer: "the Authorization header does not carry a Bearer token"
        case .malformedToken: "the bearer token is not a well-formed JWT"
        case .unsupportedCriticalHeader: "the token names critical header extensions that are not supported"
        case .missingKeyID: "the token header names no signing key (kid)"
        case .signingKeysUnavailable: "the trusted signing keys could not be loaded"
        case .unknownKey: "the token is signed with a key that is not trusted"
        case .algorithmNotAllowed: "the token's algorithm is not the one its signing key is trusted for"
        case .invalidSignature: "the token signature is invalid"
        case .missingTenant: "the token has no tid claim"
        case .invalidTenant: "the token's tid claim is not a GUID"
        case .wrongIssuer: "the token was issued by an issuer that is not trusted"
        case .wrongAudience: "the token is not intended for this API"
        case .missingExpiry: "the token has no exp claim"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        }
    }
}
