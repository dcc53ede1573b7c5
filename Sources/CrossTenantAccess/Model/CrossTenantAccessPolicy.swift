import TenantPolicy

/// A governed tenant's cross-tenant access settings (Graph's `crossTenantAccessPolicy` with its `default` and
/// `partners` expanded), in the JSON shape Graph returns so that an administrator can paste it (SPEC 2.2).
///
/// Values are immutable: an edit (`applyingPatch`, `addingPartner`, …) returns a new policy. Each policy is
/// indexed when made, the default and every partner resolved into typed settings, so that `evaluate` costs a
/// dictionary lookup and a few set lookups whatever the number of partners.
package struct CrossTenantAccessPolicy: GraphDocument, Codable, Hashable {
    package let displayName: String?
    /// Other Microsoft clouds collaboration extends to; validation checks the values.
    package let allowedCloudEndpoints: [String]
    package let `default`: CrossTenantAccessPolicyConfigurationDefault
    package let partners: [CrossTenantAccessPolicyConfigurationPartner]
    /// Properties TenantGate does not model (`id`, `templates`, `@odata.context`), kept for the round trip.
    package let additionalProperties: [String: JSONValue]
    let index: EvaluationIndex

    package init(
        displayName: String? = nil,
        allowedCloudEndpoints: [String] = [],
        default: CrossTenantAccessPolicyConfigurationDefault = .serviceDefault,
        partners: [CrossTenantAccessPolicyConfigurationPartner] = [],
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.displayName = displayName
        self.allowedCloudEndpoints = allowedCloudEndpoints
        self.default = `default`
        self.partners = partners
        self.additionalProperties = additionalProperties
        index = EvaluationIndex(default: `default`, partners: partners)
    }

    private static let known: Set<String> = ["displayName", "allowedCloudEndpoints", "default", "partners"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        self.init(
            displayName: try container.optional(String.self, "displayName"),
            allowedCloudEndpoints: try container.optional([String].self, "allowedCloudEndpoints") ?? [],
            default: try container.optional(CrossTenantAccessPolicyConfigurationDefault.self, "default")
                ?? .serviceDefault,
            partners: try container.optional([CrossTenantAccessPolicyConfigurationPartner].self, "partners") ?? [],
            additionalProperties: try container.additionalProperties(excluding: Self.known)
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeIfSet(displayName, "displayName")
        try container.encode(allowedCloudEndpoints, forKey: GraphCodingKey("allowedCloudEndpoints"))
        try container.encode(self.default, forKey: GraphCodingKey("default"))
        try container.encode(partners, forKey: GraphCodingKey("partners"))
    }

    /// The partner configuration for `tenant`, if there is one.
    package func partner(_ tenant: TenantID) -> CrossTenantAccessPolicyConfigurationPartner? {
        index.partnerPositions[tenant].map { partners[$0] }
    }
}
