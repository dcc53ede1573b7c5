import EntraAuth
import Foundation
import Plumbing
import TenantPolicy

/// A console user signed in with Entra, kept on the server (the browser holds only the session cookie's random ID).
///
/// Created only once the sign-in completes, so a session ID never exists before authentication and cannot be fixed
/// by an attacker beforehand.
package struct ConsoleSession: Codable, Sendable {
    package let tenant: String
    package let objectID: String?
    package let displayName: String?
    package let username: String?
    /// Directory role template IDs held (`wids`), read exactly as for an API caller.
    package let roleTemplateIDs: [String]
    /// The console's client ID, as `azp` would name it for an API caller.
    package let applicationID: String?
    /// The synchronizer token every change made with this session must carry (`X-CSRF-Token` or a form field).
    package let csrfToken: String
    /// When the administrator signed in: the roles above are as Entra said then.
    package let signedInAt: Date
    /// When the session was last used (updated at most once a minute).
    package var lastSeen: Date

    /// A session unused this long ends (an unattended browser).
    package static let idleLimit: TimeInterval = 30 * 60
    /// A session this old ends, whatever its use: signing in again reads the administrator's roles again, so a role
    /// removed in Entra stops working here within this time.
    package static let maximumAge: TimeInterval = 3600

    package enum Freshness: Equatable {
        case fresh
        /// Fresh, and its `lastSeen` is worth writing again.
        case touch
        case expired
    }

    package func freshness(at now: Date) -> Freshness {
        if now.timeIntervalSince(signedInAt) > Self.maximumAge || now.timeIntervalSince(lastSeen) > Self.idleLimit {
            return .expired
        }
        return now.timeIntervalSince(lastSeen) > 60 ? .touch : .fresh
    }

    package init(principal: AdminPrincipal, csrfToken: String, now: Date = Date()) {
        signedInAt = now
        lastSeen = now
        tenant = principal.tenant.description
        objectID = principal.objectID
        displayName = principal.displayName
        username = principal.username
        roleTemplateIDs = principal.roles.map(\.rawValue).sorted()
        applicationID = principal.applicationID
        self.csrfToken = csrfToken
    }

    /// The same principal an API caller with the same token claims would be; nil if the stored tenant is corrupt.
    package var principal: AdminPrincipal? {
        guard let tenant = TenantID(tenant) else { return nil }
        return AdminPrincipal(
            tenant: tenant,
            objectID: objectID,
            displayName: displayName,
            username: username,
            roles: Set(roleTemplateIDs.compactMap(AdminRole.init(templateID:))),
            applicationID: applicationID
        )
    }

    /// True only for the session's own token, compared in constant time.
    package func acceptsCSRFToken(_ presented: String?) -> Bool {
        guard let presented, !csrfToken.isEmpty else { return false }
        return ConstantTime.equal(presented, csrfToken)
    }
}
