import TokenInspection

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
