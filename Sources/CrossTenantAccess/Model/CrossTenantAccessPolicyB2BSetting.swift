/// A B2B setting (Graph's `crossTenantAccessPolicyB2BSetting`): who (`usersAndGroups`) may use what
/// (`applications`) across the tenant boundary, for one of B2B collaboration or direct connect, in one direction.
///
/// Tenant restrictions (`crossTenantAccessPolicyTenantRestrictions`) share this shape; their `devices` filter is
/// not enforced by Graph either and is kept verbatim in `additionalProperties`. A missing or null part inherits
/// the default configuration's part (SPEC 2.2).
package struct CrossTenantAccessPolicyB2BSetting: Hashable, Sendable, Codable {
    package let usersAndGroups: CrossTenantAccessPolicyTargetConfiguration?
    package let applications: CrossTenantAccessPolicyTargetConfiguration?
    /// Properties TenantGate does not model (`devices` of tenant restrictions, additions), kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    package init(
        usersAndGroups: CrossTenantAccessPolicyTargetConfiguration?,
        applications: CrossTenantAccessPolicyTargetConfiguration?,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.usersAndGroups = usersAndGroups
        self.applications = applications
        self.additionalProperties = additionalProperties
    }

    /// `usersAndGroups` and `applications` with one access type for `AllUsers` and `AllApplications`, as the
    /// service default writes its B2B settings.
    package static func everyone(_ accessType: CrossTenantAccessType) -> Self {
        Self(
            usersAndGroups: .init(accessType: accessType, targets: [.allUsers]),
            applications: .init(accessType: accessType, targets: [.allApplications])
        )
    }

    private static let known: Set<String> = ["usersAndGroups", "applications"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        usersAndGroups = try container.optional(CrossTenantAccessPolicyTargetConfiguration.self, "usersAndGroups")
        applications = try container.optional(CrossTenantAccessPolicyTargetConfiguration.self, "applications")
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeOrNull(usersAndGroups, "usersAndGroups")
        try container.encodeOrNull(applications, "applications")
    }
}
