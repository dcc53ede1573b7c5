import TenantPolicy

/// The caller of the admin API, once its token is verified: who it is, in which tenant, and with which roles.
package struct AdminPrincipal: Hashable, Sendable {
    /// The tenant the caller signed in to (`tid`); the only tenant whose settings it may change.
    package let tenant: TenantID
    /// The user's or service principal's object ID in that tenant (`oid`).
    package let objectID: String?
    /// The display name (`name`), for audit lines.
    package let displayName: String?
    /// The sign-in name (`preferred_username`, or v1's `upn`), for audit lines.
    package let username: String?
    /// The recognised directory roles the token carries (`wids`).
    package let roles: Set<AdminRole>
    /// The client application that obtained the token (`azp`, or v1's `appid`).
    package let applicationID: String?

    package init(
        tenant: TenantID,
        objectID: String?,
        displayName: String?,
        username: String?,
        roles: Set<AdminRole>,
        applicationID: String?
    ) {
        self.tenant = tenant
        self.objectID = objectID
        self.displayName = displayName
        self.username = username
        self.roles = roles
        self.applicationID = applicationID
    }

    /// The principal a verified token names: the same for an API caller's access token and a console user's ID
    /// token, so that both hold exactly the roles their `wids` grant.
    package init(_ verified: VerifiedEntraToken) {
        self.init(
            tenant: verified.tenant,
            objectID: verified.objectID,
            displayName: verified.displayName,
            username: verified.username,
            roles: AdminRole.held(in: verified.directoryRoles),
            applicationID: verified.applicationID
        )
    }

    /// May work on `area`: holds one of the roles that grant it.
    package func mayWork(on area: AdminArea) -> Bool {
        !roles.isDisjoint(with: area.grantingRoles)
    }

    /// True only for the caller's own tenant: a Global Administrator of one tenant governs no other.
    package func mayAdminister(_ tenant: TenantID) -> Bool {
        tenant == self.tenant
    }
}
