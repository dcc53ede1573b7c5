import TenantPolicy

/// Every configuration of a policy resolved into typed settings, keyed by partner tenant, built once when the
/// policy is made (STYLE 4: an immutable snapshot indexed when built).
struct EvaluationIndex: Hashable, Sendable {
    /// The settings of one configuration (the default, or a partner over the default), by kind and direction.
    struct Settings: Hashable, Sendable {
        let b2bCollaborationInbound: ResolvedB2BSetting
        let b2bCollaborationOutbound: ResolvedB2BSetting
        let b2bDirectConnectInbound: ResolvedB2BSetting
        let b2bDirectConnectOutbound: ResolvedB2BSetting
        let tenantRestrictions: ResolvedB2BSetting

        func setting(_ kind: CrossTenantAccessKind, _ direction: Direction) -> ResolvedB2BSetting {
            switch (kind, direction) {
            case (.b2bCollaboration, .inbound): b2bCollaborationInbound
            case (.b2bCollaboration, .outbound): b2bCollaborationOutbound
            case (.b2bDirectConnect, .inbound): b2bDirectConnectInbound
            case (.b2bDirectConnect, .outbound): b2bDirectConnectOutbound
            case (.tenantRestrictions, _): tenantRestrictions
            }
        }
    }

    let defaultSettings: Settings
    let partnerSettings: [TenantID: Settings]
    /// Where each partner sits in `partners`; the first wins when a tenant is listed twice (validation reports it).
    let partnerPositions: [TenantID: Int]

    init(
        default configuration: CrossTenantAccessPolicyConfigurationDefault,
        partners: [CrossTenantAccessPolicyConfigurationPartner]
    ) {
        let service = CrossTenantAccessPolicyConfigurationDefault.serviceDefault
        let defaults = Settings(
            b2bCollaborationInbound: .init(
                default: configuration.b2bCollaborationInbound,
                service: service.b2bCollaborationInbound
            ),
            b2bCollaborationOutbound: .init(
                default: configuration.b2bCollaborationOutbound,
                service: service.b2bCollaborationOutbound
            ),
            b2bDirectConnectInbound: .init(
                default: configuration.b2bDirectConnectInbound,
                service: service.b2bDirectConnectInbound
            ),
            b2bDirectConnectOutbound: .init(
                default: configuration.b2bDirectConnectOutbound,
                service: service.b2bDirectConnectOutbound
            ),
            tenantRestrictions: .init(default: configuration.tenantRestrictions, service: service.tenantRestrictions)
        )
        var settings: [TenantID: Settings] = [:]
        var positions: [TenantID: Int] = [:]
        for (position, partner) in partners.enumerated() {
            guard let tenant = partner.partnerTenant, positions[tenant] == nil else { continue }
            positions[tenant] = position
            settings[tenant] = Settings(
                b2bCollaborationInbound: defaults.b2bCollaborationInbound.overridden(
                    by: partner.b2bCollaborationInbound
                ),
                b2bCollaborationOutbound: defaults.b2bCollaborationOutbound.overridden(
                    by: partner.b2bCollaborationOutbound
                ),
                b2bDirectConnectInbound: defaults.b2bDirectConnectInbound.overridden(
                    by: partner.b2bDirectConnectInbound
                ),
                b2bDirectConnectOutbound: defaults.b2bDirectConnectOutbound.overridden(
                    by: partner.b2bDirectConnectOutbound
                ),
                tenantRestrictions: defaults.tenantRestrictions.overridden(by: partner.tenantRestrictions)
            )
        }
        defaultSettings = defaults
        partnerSettings = settings
        partnerPositions = positions
    }
}
