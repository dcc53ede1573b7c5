/// A partner's cross-tenant synchronization policy (Graph's `crossTenantIdentitySyncPolicyPartner`), the
/// `identitySynchronization` relationship of a partner configuration.
///
/// Synchronization runs between Entra tenants, never through a connector's token exchange, so TenantGate only
/// stores and prints it (SPEC 2.2).
package struct CrossTenantIdentitySyncPolicyPartner: Hashable, Sendable, Codable {
    package let displayName: String?
    /// The partner tenant, as written (Graph repeats the partner's `tenantId` here).
    package let tenantId: String?
    /// `userSyncInbound.isSyncAllowed`: whether users of the partner may be synchronized into this tenant.
    package let isSyncAllowed: Bool?
    /// Properties TenantGate does not model, kept for the round trip.
    package let additionalProperties: [String: JSONValue]
    /// Properties of `userSyncInbound` other than `isSyncAllowed`, kept for the round trip.
    package let userSyncInboundAdditionalProperties: [String: JSONValue]

    package init(
        displayName: String?,
        tenantId: String?,
        isSyncAllowed: Bool?,
        additionalProperties: [String: JSONValue] = [:],
        userSyncInboundAdditionalProperties: [String: JSONValue] = [:]
    ) {
        self.displayName = displayName
        self.tenantId = tenantId
        self.isSyncAllowed = isSyncAllowed
        self.additionalProperties = additionalProperties
        self.userSyncInboundAdditionalProperties = userSyncInboundAdditionalProperties
    }

    private static let known: Set<String> = ["displayName", "tenantId", "userSyncInbound"]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        displayName = try container.optional(String.self, "displayName")
        tenantId = try container.optional(String.self, "tenantId")
        let inboundKey = GraphCodingKey("userSyncInbound")
        if container.contains(inboundKey), try !container.decodeNil(forKey: inboundKey) {
            let inbound = try container.nestedContainer(keyedBy: GraphCodingKey.self, forKey: inboundKey)
            isSyncAllowed = try inbound.optional(Bool.self, "isSyncAllowed")
            userSyncInboundAdditionalProperties = try inbound.additionalProperties(excluding: ["isSyncAllowed"])
        } else {
            isSyncAllowed = nil
            userSyncInboundAdditionalProperties = [:]
        }
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeOrNull(displayName, "displayName")
        try container.encodeOrNull(tenantId, "tenantId")
        var inbound = container.nestedContainer(keyedBy: GraphCodingKey.self, forKey: GraphCodingKey("userSyncInbound"))
        try inbound.encodeAdditional(userSyncInboundAdditionalProperties)
        try inbound.encodeOrNull(isSyncAllowed, "isSyncAllowed")
    }
}
