import Foundation
import TenantPolicy

/// Graph's write operations on the policy, as values: each returns the edited policy and leaves this one intact,
/// so a caller validates the result before swapping it in (SPEC 5).
extension CrossTenantAccessPolicy {
    /// `PATCH /policies/crossTenantAccessPolicy/default`: each property present replaces the current one whole;
    /// `null` restores the service default's value; `isServiceDefault` is computed, so a value for it is ignored.
    /// Any change turns `isServiceDefault` false.
    /// - Throws: `CrossTenantAccessDocumentError` when the body is not a JSON object or the result is not a
    ///   default configuration.
    package func applyingPatch(toDefault json: Data) throws -> Self {
        let patch = try JSONValue.object(in: json)
        var properties = try JSONValue.object(of: self.default)
        let service = try JSONValue.object(of: CrossTenantAccessPolicyConfigurationDefault.serviceDefault)
        for (name, value) in patch where name != "isServiceDefault" {
            properties[name] = value == .null ? service[name] : value
        }
        var patched = try JSONValue.object(properties).decode(as: CrossTenantAccessPolicyConfigurationDefault.self)
        if !patched.hasSameSettings(as: self.default) {
            patched = patched.marked(isServiceDefault: false)
        }
        return replacing(default: patched)
    }

    /// `POST /policies/crossTenantAccessPolicy/default/resetToSystemDefault`: the service default's settings, with
    /// `isServiceDefault` true; properties TenantGate does not model (such as the policy `id`) stay.
    package func resetDefaultToSystemDefault() -> Self {
        let service = CrossTenantAccessPolicyConfigurationDefault.serviceDefault
        return replacing(
            default: CrossTenantAccessPolicyConfigurationDefault(
                isServiceDefault: true,
                inboundTrust: service.inboundTrust,
                b2bCollaborationInbound: service.b2bCollaborationInbound,
                b2bCollaborationOutbound: service.b2bCollaborationOutbound,
                b2bDirectConnectInbound: service.b2bDirectConnectInbound,
                b2bDirectConnectOutbound: service.b2bDirectConnectOutbound,
                automaticUserConsentSettings: service.automaticUserConsentSettings,
                tenantRestrictions: service.tenantRestrictions,
                additionalProperties: self.default.additionalProperties
            )
        )
    }

    /// `PATCH /policies/crossTenantAccessPolicy/partners/{tenantId}`: each property present replaces the current
    /// one whole; `null` clears it, so that it inherits the default's. `tenantId` may be repeated but not changed.
    /// - Throws: `CrossTenantAccessDocumentError` (`partnerNotFound`, `readOnlyProperty`, `invalidDocument`).
    package func applyingPatch(toPartner tenant: TenantID, json: Data) throws -> Self {
        guard let position = index.partnerPositions[tenant] else { throw Self.notFound(tenant) }
        let patch = try JSONValue.object(in: json)
        if let written = patch["tenantId"], written != .string(partners[position].tenantId) {
            guard case .string(let text) = written, TenantID(text) == tenant else {
                throw CrossTenantAccessDocumentError(
                    .readOnlyProperty,
                    field: "tenantId",
                    message: "is the partner's identity and cannot change; remove the partner and add another"
                )
            }
        }
        var properties = try JSONValue.object(of: partners[position])
        for (name, value) in patch where name != "tenantId" {
            properties[name] = value
        }
        var edited = partners
        edited[position] = try JSONValue.object(properties).decode(as: CrossTenantAccessPolicyConfigurationPartner.self)
        return replacing(partners: edited)
    }

    /// `POST /policies/crossTenantAccessPolicy/partners`: a new partner configuration.
    /// - Throws: `CrossTenantAccessDocumentError` (`invalidDocument` for a malformed body or a `tenantId` that is
    ///   not a GUID, `partnerAlreadyExists`).
    package func addingPartner(json: Data) throws -> Self {
        let partner = try CrossTenantAccessPolicyConfigurationPartner.decode(from: json)
        guard let tenant = partner.partnerTenant else {
            throw CrossTenantAccessDocumentError(
                .invalidDocument,
                field: "tenantId",
                message: "'\(partner.tenantId)' is not a tenant GUID"
            )
        }
        guard index.partnerPositions[tenant] == nil else {
            throw CrossTenantAccessDocumentError(
                .partnerAlreadyExists,
                field: "tenantId",
                message: "tenant \(tenant) already has a partner configuration; PATCH it instead"
            )
        }
        return replacing(partners: partners + [partner])
    }

    /// `DELETE /policies/crossTenantAccessPolicy/partners/{tenantId}`: the tenant falls back to the default.
    /// - Throws: `CrossTenantAccessDocumentError` (`partnerNotFound`).
    package func removingPartner(_ tenant: TenantID) throws -> Self {
        guard index.partnerPositions[tenant] != nil else { throw Self.notFound(tenant) }
        return replacing(partners: partners.filter { $0.partnerTenant != tenant })
    }

    private static func notFound(_ tenant: TenantID) -> CrossTenantAccessDocumentError {
        CrossTenantAccessDocumentError(
            .partnerNotFound,
            field: "",
            message: "tenant \(tenant) has no partner configuration"
        )
    }

    private func replacing(
        default configuration: CrossTenantAccessPolicyConfigurationDefault? = nil,
        partners edited: [CrossTenantAccessPolicyConfigurationPartner]? = nil
    ) -> Self {
        Self(
            displayName: displayName,
            allowedCloudEndpoints: allowedCloudEndpoints,
            default: configuration ?? self.default,
            partners: edited ?? partners,
            additionalProperties: additionalProperties
        )
    }
}
