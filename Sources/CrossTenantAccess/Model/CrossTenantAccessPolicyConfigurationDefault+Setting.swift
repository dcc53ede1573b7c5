import TenantPolicy

extension CrossTenantAccessPolicyConfigurationDefault {
    /// The setting for `kind` and `direction` (`tenantRestrictions` for that kind, whatever the direction).
    func setting(_ kind: CrossTenantAccessKind, _ direction: Direction) -> CrossTenantAccessPolicyB2BSetting? {
        switch (kind, direction) {
        case (.b2bCollaboration, .inbound): b2bCollaborationInbound
        case (.b2bCollaboration, .outbound): b2bCollaborationOutbound
        case (.b2bDirectConnect, .inbound): b2bDirectConnectInbound
        case (.b2bDirectConnect, .outbound): b2bDirectConnectOutbound
        case (.tenantRestrictions, _): tenantRestrictions
        }
    }
}
