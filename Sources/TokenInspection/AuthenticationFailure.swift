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
    case keyOfAnotherIssuer
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
        case .keyOfAnotherIssuer: "the token is signed with a key its key set gives to another issuer"
        case .wrongAudience: "the token is not intended for this API"
        case .missingExpiry: "the token has no exp claim"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        }
    }
}
