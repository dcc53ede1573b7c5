import Foundation

/// How the console signs administrators in (`--console-client-id`, `--console-issuer`) and what it reads.
package struct ConsoleConfiguration: Sendable {
    /// Entra's multi-tenant authority: any work account signs in, and its own tenant's issuer is checked.
    package static let defaultIssuer = "https://login.microsoftonline.com/organizations/v2.0"

    /// The console's application (client) ID in Entra; ID tokens must name it as their audience.
    package var clientID: String
    /// The OpenID Connect issuer whose `/.well-known/openid-configuration` names the endpoints and keys.
    package var issuer: URL
    /// The audit log the Report page reads (nil: no report).
    package var auditLogPath: String?
    /// Where the policies come from, named in What-if explanations.
    package var policiesSource: String
    /// Where administrators reach the console (`--console-public-url`): the sign-in's `redirect_uri` is built from it,
    /// never from a request's Host header, which any client chooses.
    package var publicURL: URL?

    package init(clientID: String, issuer: URL, auditLogPath: String?, policiesSource: String, publicURL: URL? = nil) {
        self.clientID = clientID
        self.issuer = issuer
        self.auditLogPath = auditLogPath
        self.policiesSource = policiesSource
        self.publicURL = publicURL
    }
}
