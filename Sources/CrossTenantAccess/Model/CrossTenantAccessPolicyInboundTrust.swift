/// Which claims of a guest's home tenant this tenant trusts (Graph's `crossTenantAccessPolicyInboundTrust`).
///
/// No token exchange shows these, so TenantGate stores, validates and prints them but never enforces them
/// (SPEC 2.2). A null property is left null, as Graph returns it.
public struct CrossTenantAccessPolicyInboundTrust: Hashable, Sendable, Codable {
    public let isMfaAccepted: Bool?
    public let isCompliantDeviceAccepted: Bool?
    public let isHybridAzureADJoinedDeviceAccepted: Bool?
    /// Properties TenantGate does not model, kept for the round trip.
    public let additionalProperties: [String: JSONValue]

    public init(
        isMfaAccepted: Bool?, isCompliantDeviceAccepted: Bool?, isHybridAzureADJoinedDeviceAccepted: Bool?,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.isMfaAccepted = isMfaAccepted
        self.isCompliantDeviceAccepted = isCompliantDeviceAccepted
        self.isHybridAzureADJoinedDeviceAccepted = isHybridAzureADJoinedDeviceAccepted
        self.additionalProperties = additionalProperties
    }

    /// Nothing trusted: the service default (SPEC 2.2).
    public static let nothingTrusted = Self(
        isMfaAccepted: false, isCompliantDeviceAccepted: false, isHybridAzureADJoinedDeviceAccepted: false)

    private static let known: Set<String> = [
        "isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted",
    ]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        isMfaAccepted = try container.optional(Bool.self, "isMfaAccepted")
        isCompliantDeviceAccepted = try container.optional(Bool.self, "isCompliantDeviceAccepted")
        isHybridAzureADJoinedDeviceAccepted = try container.optional(Bool.self, "isHybridAzureADJoinedDeviceAccepted")
        additionalProperties = try container.additionalProperties(excluding: Self.known)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encodeOrNull(isMfaAccepted, "isMfaAccepted")
        try container.encodeOrNull(isCompliantDeviceAccepted, "isCompliantDeviceAccepted")
        try container.encodeOrNull(isHybridAzureADJoinedDeviceAccepted, "isHybridAzureADJoinedDeviceAccepted")
    }
}
