import TenantPolicy

/// Which cross-tenant access setting a question is about (SPEC 2.2).
package enum CrossTenantAccessKind: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Guests: a user of one tenant invited into another (`b2bCollaborationInbound/Outbound`).
    case b2bCollaboration
    /// Teams shared channels and the like, without a guest account (`b2bDirectConnectInbound/Outbound`).
    case b2bDirectConnect
    /// Accounts of another tenant used on this tenant's network or devices (`tenantRestrictions`); no direction.
    case tenantRestrictions

    package var description: String { rawValue }

    /// The Graph property that holds this setting for `direction` (ignored for tenant restrictions).
    package func settingName(_ direction: Direction) -> String {
        switch (self, direction) {
        case (.b2bCollaboration, .inbound): "b2bCollaborationInbound"
        case (.b2bCollaboration, .outbound): "b2bCollaborationOutbound"
        case (.b2bDirectConnect, .inbound): "b2bDirectConnectInbound"
        case (.b2bDirectConnect, .outbound): "b2bDirectConnectOutbound"
        case (.tenantRestrictions, _): "tenantRestrictions"
        }
    }
}
