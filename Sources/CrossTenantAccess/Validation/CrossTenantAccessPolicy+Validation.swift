import TenantPolicy

extension CrossTenantAccessPolicy {
    /// Every problem in the settings, errors and warnings, in document order (SPEC 2.2, ENTRA-FACTS 4).
    ///
    /// Checks tenant IDs (GUIDs, no duplicate partner, not `owner` itself when known), `accessType` and
    /// `targetType` values (seed 002's `" blocked"` is a warning), keyword targets and their `targetType`, which
    /// side a target may sit on, Graph's rule that users and applications must not conflict (for the four B2B
    /// settings and tenant restrictions, a partner's setting checked as it resolves over the default), and
    /// `allowedCloudEndpoints` values.
    package func validate(owner: TenantID? = nil) -> [CrossTenantAccessDiagnostic] {
        var diagnostics: [CrossTenantAccessDiagnostic] = []
        for (position, endpoint) in allowedCloudEndpoints.enumerated() {
            if AllowedCloudEndpoint(rawValue: endpoint) == nil {
                diagnostics.append(
                    .init(
                        .error,
                        field: "allowedCloudEndpoints[\(position)]",
                        message: "'\(endpoint)' is not a Microsoft cloud; use one of \(AllowedCloudEndpoint.spellings)"
                    )
                )
            }
        }
        for (kind, direction, name) in Self.settings {
            guard let setting = self.default.setting(kind, direction) else { continue }
            SettingValidator.check(
                setting,
                resolved: index.defaultSettings.setting(kind, direction),
                at: "default.\(name)",
                into: &diagnostics
            )
        }
        var seen: [TenantID: Int] = [:]
        for (position, partner) in partners.enumerated() {
            let path = "partners[\(position)]"
            checkTenant(of: partner, at: position, owner: owner, seen: &seen, into: &diagnostics)
            for (kind, direction, _) in Self.settings {
                guard let setting = partner.setting(kind, direction) else { continue }
                SettingValidator.check(
                    setting,
                    resolved: index.defaultSettings.setting(kind, direction).overridden(by: setting),
                    at: "\(path).\(kind.settingName(direction))",
                    into: &diagnostics
                )
            }
        }
        return diagnostics
    }

    /// Every B2B setting and tenant restrictions, once each.
    private static let settings: [(CrossTenantAccessKind, Direction, String)] = [
        (.b2bCollaboration, .inbound, "b2bCollaborationInbound"),
        (.b2bCollaboration, .outbound, "b2bCollaborationOutbound"),
        (.b2bDirectConnect, .inbound, "b2bDirectConnectInbound"),
        (.b2bDirectConnect, .outbound, "b2bDirectConnectOutbound"),
        (.tenantRestrictions, .inbound, "tenantRestrictions"),
    ]

    private func checkTenant(
        of partner: CrossTenantAccessPolicyConfigurationPartner,
        at position: Int,
        owner: TenantID?,
        seen: inout [TenantID: Int],
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        let path = "partners[\(position)]"
        guard let tenant = partner.partnerTenant else {
            diagnostics.append(
                .init(.error, field: "\(path).tenantId", message: "'\(partner.tenantId)' is not a tenant GUID")
            )
            return
        }
        if let first = seen[tenant] {
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).tenantId",
                    message: "tenant \(tenant) already has a partner configuration at partners[\(first)]"
                )
            )
        } else {
            seen[tenant] = position
        }
        if tenant == owner {
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).tenantId",
                    message: "tenant \(tenant) is this policy's own tenant, which cannot be its own partner"
                )
            )
        }
        if let synchronized = partner.identitySynchronization?.tenantId, TenantID(synchronized) != tenant {
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).identitySynchronization.tenantId",
                    message: "'\(synchronized)' differs from the partner's tenantId \(tenant)"
                )
            )
        }
    }
}
