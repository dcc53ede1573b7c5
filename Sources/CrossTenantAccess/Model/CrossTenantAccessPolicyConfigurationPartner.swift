import TenantPolicy

/// A partner configuration (Graph's `crossTenantAccessPolicyConfigurationPartner`): the stance toward one other
/// tenant, overriding the default configuration property by property.
///
/// A null property inherits the default configuration's, and within a B2B setting a null part inherits the
/// default's part (SPEC 2.2); nothing is filled in here, so the document prints back as it was written.
package struct CrossTenantAccessPolicyConfigurationPartner: GraphDocument, Codable, Hashable {
    /// The partner tenant, as written; validation reports a value that is not a GUID.
    package let tenantId: String
    /// `tenantId` parsed, or nil when it is not a GUID.
    package let partnerTenant: TenantID?
    package let isServiceProvider: Bool?
    package let isInMultiTenantOrganization: Bool?
    package let inboundTrust: CrossTenantAccessPolicyInboundTrust?
    package let b2bCollaborationInbound: CrossTenantAccessPolicyB2BSetting?
    package let b2bCollaborationOutbound: CrossTenantAccessPolicyB2BSetting?
    package let b2bDirectConnectInbound: CrossTenantAccessPolicyB2BSetting?
    package let b2bDirectConnectOutbound: CrossTenantAccessPolicyB2BSetting?
    package let automaticUserConsentSettings: InboundOutboundPolicyConfiguration?
    package let tenantRestrictions: CrossTenantAccessPolicyB2BSetting?
    package let identitySynchronization: CrossTenantIdentitySyncPolicyPartner?
    /// Properties TenantGate does not model (`@odata.context`, beta additions), kept for the round trip.
    package let additionalProperties: [String: JSONValue]

    package init(
        tenantId: String,
        isServiceProvider: Bool? = nil,
        isInMultiTenantOrganization: Bool? = nil,
        inboundTrust: CrossTenantAccessPolicyInboundTrust? = nil,
        b2bCollaborationInbound: CrossTenantAccessPolicyB2BSetting? = nil,
        b2bCollaborationOutbound: CrossTenantAccessPolicyB2BSetting? = nil,
        b2bDirectConnectInbound: CrossTenantAccessPolicyB2BSetting? = nil,
        b2bDirectConnectOutbound: CrossTenantAccessPolicyB2BSetting? = nil,
        automaticUserConsentSettings: InboundOutboundPolicyConfiguration? = nil,
        tenantRestrictions: CrossTenantAccessPolicyB2BSetting? = nil,
        identitySynchronization: CrossTenantIdentitySyncPolicyPartner? = nil,
        additionalProperties: [String: JSONValue] = [:]
    ) {
        self.tenantId = tenantId
        partnerTenant = TenantID(tenantId)
        self.isServiceProvider = isServiceProvider
        self.isInMultiTenantOrganization = isInMultiTenantOrganization
        self.inboundTrust = inboundTrust
        self.b2bCollaborationInbound = b2bCollaborationInbound
        self.b2bCollaborationOutbound = b2bCollaborationOutbound
        self.b2bDirectConnectInbound = b2bDirectConnectInbound
        self.b2bDirectConnectOutbound = b2bDirectConnectOutbound
        self.automaticUserConsentSettings = automaticUserConsentSettings
        self.tenantRestrictions = tenantRestrictions
        self.identitySynchronization = identitySynchronization
        self.additionalProperties = additionalProperties
    }

    static let known: Set<String> = [
        "tenantId", "isServiceProvider", "isInMultiTenantOrganization", "inboundTrust", "b2bCollaborationInbound",
        "b2bCollaborationOutbound", "b2bDirectConnectInbound", "b2bDirectConnectOutbound",
        "automaticUserConsentSettings", "tenantRestrictions", "identitySynchronization",
    ]

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: GraphCodingKey.self)
        typealias Setting = CrossTenantAccessPolicyB2BSetting
        self.init(
            tenantId: try container.required(String.self, "tenantId"),
            isServiceProvider: try container.optional(Bool.self, "isServiceProvider"),
            isInMultiTenantOrganization: try container.optional(Bool.self, "isInMultiTenantOrganization"),
            inboundTrust: try container.optional(CrossTenantAccessPolicyInboundTrust.self, "inboundTrust"),
            b2bCollaborationInbound: try container.optional(Setting.self, "b2bCollaborationInbound"),
            b2bCollaborationOutbound: try container.optional(Setting.self, "b2bCollaborationOutbound"),
            b2bDirectConnectInbound: try container.optional(Setting.self, "b2bDirectConnectInbound"),
            b2bDirectConnectOutbound: try container.optional(Setting.self, "b2bDirectConnectOutbound"),
            automaticUserConsentSettings: try container.optional(
                InboundOutboundPolicyConfiguration.self,
                "automaticUserConsentSettings"
            ),
            tenantRestrictions: try container.optional(Setting.self, "tenantRestrictions"),
            identitySynchronization: try container.optional(
                CrossTenantIdentitySyncPolicyPartner.self,
                "identitySynchronization"
            ),
            additionalProperties: try container.additionalProperties(excluding: Self.known)
        )
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: GraphCodingKey.self)
        try container.encodeAdditional(additionalProperties)
        try container.encode(tenantId, forKey: GraphCodingKey("tenantId"))
        try container.encodeOrNull(isServiceProvider, "isServiceProvider")
        try container.encodeOrNull(isInMultiTenantOrganization, "isInMultiTenantOrganization")
        try container.encodeOrNull(inboundTrust, "inboundTrust")
        try container.encodeOrNull(b2bCollaborationInbound, "b2bCollaborationInbound")
        try container.encodeOrNull(b2bCollaborationOutbound, "b2bCollaborationOutbound")
        try container.encodeOrNull(b2bDirectConnectInbound, "b2bDirectConnectInbound")
        try container.encodeOrNull(b2bDirectConnectOutbound, "b2bDirectConnectOutbound")
        try container.encodeOrNull(automaticUserConsentSettings, "automaticUserConsentSettings")
        try container.encodeOrNull(tenantRestrictions, "tenantRestrictions")
        try container.encodeIfSet(identitySynchronization, "identitySynchronization")
    }
}
