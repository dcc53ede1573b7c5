/// One half of a B2B setting (Graph's `crossTenantAccessPolicyTargetConfiguration`): the users and groups, or
/// the applications, that the setting lets in (`allowed`) or keeps out (`blocked`).
///
/// The targets are compiled into a `TargetMatcher` when the value is made, so that evaluation does dictionary
/// lookups and no JSON or string work.
package struct CrossTenantAccessPolicyTargetConfiguration: Hashable, Sendable, Codable {
    package let accessType: CrossTenantAccessType
    package let targets: [CrossTenantAccessPolicyTarget]
    /// Properties Graph may add that TenantGate does not model, kept for the round trip.
    package let additionalProperties: [String: JSONValue]
    let matcher: TargetMatcher

    package init(
        accessType: CrossTenantAccessType,
        targets: [CrossTenantAccessPolicyTarget],
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.accessType = accessType
        self.targets = targets
        self.additionalProperties = additionalProperties
        matcher = TargetMatcher(targets)
    }

    private static let known: Set<String> = ["accessType", "targets"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        self.init(
            accessType: try container.required(CrossTenantAccessType.self, "accessType"),
            targets: try container.required([CrossTenantAccessPolicyTarget].self, "targets"),
            additionalProperties: try container.additionalProperties(excluding: Self.known)
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encode(accessType, forKey: GraphCodingKey("accessType"))
        try container.encode(targets, forKey: GraphCodingKey("targets"))
    }
}
