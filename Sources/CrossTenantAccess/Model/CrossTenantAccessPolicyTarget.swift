import TenantPolicy

/// One target of a target configuration (Graph's `crossTenantAccessPolicyTarget`): a user, group or application
/// ID, or one of Graph's keywords.
package struct CrossTenantAccessPolicyTarget: Hashable, Sendable, Codable {
    /// The keywords Graph reserves in `target`, each valid with one `targetType`.
    package enum Keyword: String, Hashable, Sendable, CaseIterable {
        case allUsers = "AllUsers"
        case allApplications = "AllApplications"
        case office365 = "Office365"
        case allMicrosoftApps = "AllMicrosoftApps"

        /// The only `targetType` Graph accepts with this keyword.
        package var targetType: CrossTenantAccessTargetType {
            switch self {
            case .allUsers: .user
            case .allApplications, .office365, .allMicrosoftApps: .application
            }
        }
    }

    /// The ID or keyword, as written.
    package let target: String
    package let targetType: CrossTenantAccessTargetType
    /// Properties Graph may add that TenantGate does not model, kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    package init(
        target: String,
        targetType: CrossTenantAccessTargetType,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.target = target
        self.targetType = targetType
        self.additionalProperties = additionalProperties
    }

    /// The keyword this target names, if any: spelled as Graph does, around stray white space (validation warns).
    package var keyword: Keyword? { Keyword(rawValue: target.trimmingWhitespace()) }

    package static let allUsers = CrossTenantAccessPolicyTarget(target: "AllUsers", targetType: .user)
    package static let allApplications = CrossTenantAccessPolicyTarget(
        target: "AllApplications",
        targetType: .application
    )

    private static let known: Set<String> = ["target", "targetType"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        target = try container.required(String.self, "target")
        targetType = try container.required(CrossTenantAccessTargetType.self, "targetType")
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encode(target, forKey: GraphCodingKey("target"))
        try container.encode(targetType, forKey: GraphCodingKey("targetType"))
    }
}
