import TenantPolicy

/// What a tenant's settings are toward one other tenant once inheritance is resolved: the partner configuration
/// with every null property and B2B part filled from the default (SPEC 2.2), printable as a Graph partner
/// document so that an administrator sees what is in force rather than what was written.
package struct EffectivePartnerSettings: GraphDocument, Hashable {
    /// The resolved settings in Graph's partner shape. `tenantRestrictions` stays null when it is configured
    /// nowhere; `identitySynchronization` is the partner's own (it has no default).
    package let configuration: CrossTenantAccessPolicyConfigurationPartner
    /// Whether the tenant has a partner configuration; when not, every setting is the default's.
    package let isPartner: Bool
    /// The properties and B2B parts taken from the default, e.g. `inboundTrust`,
    /// `b2bCollaborationInbound.applications`.
    package let inheritedProperties: [String]

    init(
        tenant: TenantID,
        partner: CrossTenantAccessPolicyConfigurationPartner?,
        default defaults: CrossTenantAccessPolicyConfigurationDefault,
        settings: EvaluationIndex.Settings
    ) {
        var inherited: [String] = []
        func resolve<Value>(_ name: String, _ own: Value?, _ fallback: Value) -> Value {
            if let own { return own }
            inherited.append(name)
            return fallback
        }
        func resolve(_ name: String, _ setting: ResolvedB2BSetting) -> CrossTenantAccessPolicyB2BSetting? {
            inherited += setting.inheritedParts.count == 2 ? [name] : setting.inheritedParts.map { "\(name).\($0)" }
            return setting.graphSetting
        }
        configuration = CrossTenantAccessPolicyConfigurationPartner(
            tenantId: partner?.tenantId ?? tenant.description,
            isServiceProvider: resolve("isServiceProvider", partner?.isServiceProvider, false),
            isInMultiTenantOrganization: resolve(
                "isInMultiTenantOrganization",
                partner?.isInMultiTenantOrganization,
                false
            ),
            inboundTrust: resolve("inboundTrust", partner?.inboundTrust, defaults.inboundTrust),
            b2bCollaborationInbound: resolve("b2bCollaborationInbound", settings.b2bCollaborationInbound),
            b2bCollaborationOutbound: resolve("b2bCollaborationOutbound", settings.b2bCollaborationOutbound),
            b2bDirectConnectInbound: resolve("b2bDirectConnectInbound", settings.b2bDirectConnectInbound),
            b2bDirectConnectOutbound: resolve("b2bDirectConnectOutbound", settings.b2bDirectConnectOutbound),
            automaticUserConsentSettings: resolve(
                "automaticUserConsentSettings",
                partner?.automaticUserConsentSettings,
                defaults.automaticUserConsentSettings
            ),
            tenantRestrictions: resolve("tenantRestrictions", settings.tenantRestrictions),
            identitySynchronization: partner?.identitySynchronization,
            additionalProperties: partner?.additionalProperties ?? [:]
        )
        isPartner = partner != nil
        inheritedProperties = inherited
    }

    package func encode(to encoder: any Encoder) throws {
        try configuration.encode(to: encoder)
    }
}

extension CrossTenantAccessPolicy {
    /// The settings in force toward `tenant`: its partner configuration over the default, or the default alone.
    package func effectiveSettings(for tenant: TenantID) -> EffectivePartnerSettings {
        EffectivePartnerSettings(
            tenant: tenant,
            partner: partner(tenant),
            default: self.default,
            settings: index.partnerSettings[tenant] ?? index.defaultSettings
        )
    }
}
