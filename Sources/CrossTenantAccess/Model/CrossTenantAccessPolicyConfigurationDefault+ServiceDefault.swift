extension CrossTenantAccessPolicyConfigurationDefault {
    /// The configuration Entra assigns every tenant until an administrator changes it (SPEC 2.2): B2B
    /// collaboration allowed both ways for AllUsers and AllApplications, B2B direct connect blocked both ways,
    /// nothing trusted inbound, automatic consent off, no tenant restrictions.
    package static let serviceDefault = Self(
        isServiceDefault: true,
        inboundTrust: .nothingTrusted,
        b2bCollaborationInbound: .everyone(.allowed),
        b2bCollaborationOutbound: .everyone(.allowed),
        b2bDirectConnectInbound: .everyone(.blocked),
        b2bDirectConnectOutbound: .everyone(.blocked),
        automaticUserConsentSettings: .neither,
        tenantRestrictions: nil
    )
}
