/// An Entra directory role that the admin API recognises, read from a token's `wids` claim.
///
/// The raw value is the role's template ID, which is the same in every tenant, so roles are matched by ID and never
/// by display name (ENTRA-FACTS 2).
package enum AdminRole: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    case globalAdministrator = "62e90394-69f5-4237-9190-012177145e10"
    case powerPlatformAdministrator = "11648597-926c-4cf3-9c36-bcebb0ba8dcc"
    case securityAdministrator = "194ae4cb-b126-40b2-bd5b-6091b380977d"

    /// Matches a template ID in any letter case; nil for roles the admin API does not use.
    package init?(templateID: String) {
        self.init(rawValue: templateID.lowercased())
    }

    /// The role's name as the Entra admin center shows it.
    package var description: String {
        switch self {
        case .globalAdministrator: "Global Administrator"
        case .powerPlatformAdministrator: "Power Platform Administrator"
        case .securityAdministrator: "Security Administrator"
        }
    }

    /// The recognised roles among a `wids` claim's template IDs; unknown IDs are ignored.
    static func held(in templateIDs: [String]) -> Set<AdminRole> {
        Set(templateIDs.compactMap(AdminRole.init(templateID:)))
    }
}
