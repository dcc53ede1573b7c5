/// Which claims of a guest's home tenant this tenant trusts (Graph's `crossTenantAccessPolicyInboundTrust`).
///
/// No token exchange shows these, so TenantGate stores, validates and prints them but never enforces them
/// (SPEC 2.2). A null property is left null, as Graph returns it.
package struct CrossTenantAccessPolicyInboundTrust: Hashable, Sendable, Codable {
    package let isMfaAccepted: Bool?
    package let isCompliantDeviceAccepted: Bool?
    package let isHybridAzureADJoinedDeviceAccepted: Bool?
    /// Properties TenantGate does not model, kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    package init(
        isMfaAccepted: Bool?,
        isCompliantDeviceAccepted: Bool?,
        isHybridAzureADJoinedDeviceAccepted: Bool?,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.isMfaAccepted = isMfaAccepted
        self.isCompliantDeviceAccepted = isCompliantDeviceAccepted
        self.isHybridAzureADJoinedDeviceAccepted = isHybridAzureADJoinedDeviceAccepted
        self.additionalProperties = additionalProperties
    }

    /// Nothing trusted: the service default (SPEC 2.2).
    package static let nothingTrusted = Self(
        isMfaAccepted: false,
        isCompliantDeviceAccepted: false,
        isHybridAzureADJoinedDeviceAccepted: false
    )

    private static let known: Set<String> = [
        "isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted",
    ]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        isMfaAccepted = try container.optional(Bool.self, "isMfaAccepted")
        isCompliantDeviceAccepted = try container.optional(Bool.self, "isCompliantDeviceAccepted")
        isHybridAzureADJoinedDeviceAccepted = try container.optional(Bool.self, "isHybridAzureADJoinedDeviceAccepted")
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeOrNull(isMfaAccepted, "isMfaAccepted")
        try container.encodeOrNull(isCompliantDeviceAccepted, "isCompliantDeviceAccepted")
        try container.encodeOrNull(isHybridAzureADJoinedDeviceAccepted, "isHybridAzureADJoinedDeviceAccepted")
    }
}
