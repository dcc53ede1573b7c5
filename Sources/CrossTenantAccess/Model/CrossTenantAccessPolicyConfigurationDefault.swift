/// The default configuration (Graph's `crossTenantAccessPolicyConfigurationDefault`): the stance toward every
/// tenant that has no partner configuration, and the values a partner's null properties inherit (SPEC 2.2).
///
/// Every setting is present: a property missing or null in a pasted document takes the service default's value,
/// as Graph itself never returns a default configuration with holes. `tenantRestrictions` is the exception: the
/// service default has none (Graph does not document one), and while it is absent tenant restrictions admit
/// everyone.
package struct CrossTenantAccessPolicyConfigurationDefault: GraphDocument, Codable, Hashable {
    /// True while the settings are the service default's; false once changed, true again after a reset.
    package private(set) var isServiceDefault: Bool
    package let inboundTrust: CrossTenantAccessPolicyInboundTrust
    package let b2bCollaborationInbound: CrossTenantAccessPolicyB2BSetting
    package let b2bCollaborationOutbound: CrossTenantAccessPolicyB2BSetting
    package let b2bDirectConnectInbound: CrossTenantAccessPolicyB2BSetting
    package let b2bDirectConnectOutbound: CrossTenantAccessPolicyB2BSetting
    package let automaticUserConsentSettings: InboundOutboundPolicyConfiguration
    package let tenantRestrictions: CrossTenantAccessPolicyB2BSetting?
    /// Properties TenantGate does not model (`id`, `invitationRedemptionIdentityProviderConfiguration`,
    /// `@odata.context`, additions), kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    /// Makes a default configuration; `isServiceDefault` nil means "true iff the settings equal the service
    /// default's".
    package init(
        isServiceDefault: Bool? = nil,
        inboundTrust: CrossTenantAccessPolicyInboundTrust,
        b2bCollaborationInbound: CrossTenantAccessPolicyB2BSetting,
        b2bCollaborationOutbound: CrossTenantAccessPolicyB2BSetting,
        b2bDirectConnectInbound: CrossTenantAccessPolicyB2BSetting,
        b2bDirectConnectOutbound: CrossTenantAccessPolicyB2BSetting,
        automaticUserConsentSettings: InboundOutboundPolicyConfiguration,
        tenantRestrictions: CrossTenantAccessPolicyB2BSetting?,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.inboundTrust = inboundTrust
        self.b2bCollaborationInbound = b2bCollaborationInbound
        self.b2bCollaborationOutbound = b2bCollaborationOutbound
        self.b2bDirectConnectInbound = b2bDirectConnectInbound
        self.b2bDirectConnectOutbound = b2bDirectConnectOutbound
        self.automaticUserConsentSettings = automaticUserConsentSettings
        self.tenantRestrictions = tenantRestrictions
        self.additionalProperties = additionalProperties
        self.isServiceDefault = isServiceDefault ?? true
        if isServiceDefault == nil {
            self.isServiceDefault = Self.serviceDefault.hasSameSettings(as: self)
        }
    }

    /// True when every setting (not `isServiceDefault`, not the kept unknown properties) is equal.
    package func hasSameSettings(as other: Self) -> Bool {
        inboundTrust == other.inboundTrust
            && b2bCollaborationInbound == other.b2bCollaborationInbound
            && b2bCollaborationOutbound == other.b2bCollaborationOutbound
            && b2bDirectConnectInbound == other.b2bDirectConnectInbound
            && b2bDirectConnectOutbound == other.b2bDirectConnectOutbound
            && automaticUserConsentSettings == other.automaticUserConsentSettings
            && tenantRestrictions == other.tenantRestrictions
    }

    /// The same settings with `isServiceDefault` set as given.
    func marked(isServiceDefault: Bool) -> Self {
        Self(
            isServiceDefault: isServiceDefault,
            inboundTrust: inboundTrust,
            b2bCollaborationInbound: b2bCollaborationInbound,
            b2bCollaborationOutbound: b2bCollaborationOutbound,
            b2bDirectConnectInbound: b2bDirectConnectInbound,
            b2bDirectConnectOutbound: b2bDirectConnectOutbound,
            automaticUserConsentSettings: automaticUserConsentSettings,
            tenantRestrictions: tenantRestrictions,
            additionalProperties: additionalProperties
        )
    }

    static let known: Set<String> = [
        "isServiceDefault", "inboundTrust", "b2bCollaborationInbound", "b2bCollaborationOutbound",
        "b2bDirectConnectInbound", "b2bDirectConnectOutbound", "automaticUserConsentSettings", "tenantRestrictions",
    ]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        let service = Self.serviceDefault
        typealias Setting = CrossTenantAccessPolicyB2BSetting
        self.init(
            isServiceDefault: try container.optional(Bool.self, "isServiceDefault"),
            inboundTrust: try container.optional(CrossTenantAccessPolicyInboundTrust.self, "inboundTrust")
                ?? service.inboundTrust,
            b2bCollaborationInbound: try container.optional(Setting.self, "b2bCollaborationInbound")
                ?? service.b2bCollaborationInbound,
            b2bCollaborationOutbound: try container.optional(Setting.self, "b2bCollaborationOutbound")
                ?? service.b2bCollaborationOutbound,
            b2bDirectConnectInbound: try container.optional(Setting.self, "b2bDirectConnectInbound")
                ?? service.b2bDirectConnectInbound,
            b2bDirectConnectOutbound: try container.optional(Setting.self, "b2bDirectConnectOutbound")
                ?? service.b2bDirectConnectOutbound,
            automaticUserConsentSettings: try container.optional(
                InboundOutboundPolicyConfiguration.self,
                "automaticUserConsentSettings"
            )
                ?? service.automaticUserConsentSettings,
            tenantRestrictions: try container.optional(Setting.self, "tenantRestrictions")
                ?? service.tenantRestrictions,
            additionalProperties: try container.additionalProperties(excluding: Self.known)
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encode(isServiceDefault, forKey: GraphCodingKey("isServiceDefault"))
        try container.encode(inboundTrust, forKey: GraphCodingKey("inboundTrust"))
        try container.encode(b2bCollaborationInbound, forKey: GraphCodingKey("b2bCollaborationInbound"))
        try container.encode(b2bCollaborationOutbound, forKey: GraphCodingKey("b2bCollaborationOutbound"))
        try container.encode(b2bDirectConnectInbound, forKey: GraphCodingKey("b2bDirectConnectInbound"))
        try container.encode(b2bDirectConnectOutbound, forKey: GraphCodingKey("b2bDirectConnectOutbound"))
        try container.encode(automaticUserConsentSettings, forKey: GraphCodingKey("automaticUserConsentSettings"))
        try container.encodeOrNull(tenantRestrictions, "tenantRestrictions")
    }
}
