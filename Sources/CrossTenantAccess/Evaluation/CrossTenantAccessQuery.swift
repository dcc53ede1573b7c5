import TenantPolicy

/// One question to a tenant's cross-tenant access settings: may this user use this application across the
/// boundary with this partner, for this kind of access in this direction (SPEC 2.2)?
///
/// An unknown user (nil) or application (nil) may be anyone: it matches `AllUsers` (`AllApplications`), an allowed
/// list of named ones does not admit it, and a blocked list of named ones does not either, since it could be one of
/// them (fail closed).
package struct CrossTenantAccessQuery: Hashable, Sendable {
    package let kind: CrossTenantAccessKind
    /// The direction seen from the tenant whose settings are asked; ignored for tenant restrictions.
    package let direction: Direction
    /// The other tenant.
    package let partner: TenantID
    package let user: UserIdentity?
    /// The application (client) ID, as given.
    package let application: String?
    let normalizedApplication: String?

    package init(
        kind: CrossTenantAccessKind,
        direction: Direction,
        partner: TenantID,
        user: UserIdentity?,
        application: String?
    ) {
        self.kind = kind
        self.direction = direction
        self.partner = partner
        self.user = user
        self.application = application
        normalizedApplication = application.map { ObjectID.key($0) }
    }

    /// The Graph property this question is answered from, e.g. `b2bCollaborationInbound`.
    package var settingName: String { kind.settingName(direction) }
}
