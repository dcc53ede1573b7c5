/// One B2B setting (or tenant restrictions) with each part resolved to the configuration it comes from, so that
/// evaluation never walks the inheritance chain (SPEC 2.2).
///
/// A part is taken from the partner configuration when it sets it, else from the default configuration, else
/// from the service default; nil means nothing anywhere restricts it (tenant restrictions never configured).
struct ResolvedB2BSetting: Hashable, Sendable {
    /// Which configuration a part was taken from.
    enum Origin: Hashable, Sendable {
        case partner
        case `default`
    }

    let usersAndGroups: CrossTenantAccessPolicyTargetConfiguration?
    let applications: CrossTenantAccessPolicyTargetConfiguration?
    let usersAndGroupsOrigin: Origin
    let applicationsOrigin: Origin
    /// The unmodelled properties (`devices`) of the setting object the parts were read from.
    let additionalProperties: [String: JSONValue]

    /// The default configuration's setting, holes filled from the service default's.
    init(default setting: CrossTenantAccessPolicyB2BSetting?, service: CrossTenantAccessPolicyB2BSetting?) {
        usersAndGroups = setting?.usersAndGroups ?? service?.usersAndGroups
        applications = setting?.applications ?? service?.applications
        usersAndGroupsOrigin = .default
        applicationsOrigin = .default
        additionalProperties = setting?.additionalProperties ?? service?.additionalProperties ?? [:]
    }

    private init(
        usersAndGroups: CrossTenantAccessPolicyTargetConfiguration?,
        usersAndGroupsOrigin: Origin,
        applications: CrossTenantAccessPolicyTargetConfiguration?,
        applicationsOrigin: Origin,
        additionalProperties: [String: JSONValue]
    ) {
        self.usersAndGroups = usersAndGroups
        self.usersAndGroupsOrigin = usersAndGroupsOrigin
        self.applications = applications
        self.applicationsOrigin = applicationsOrigin
        self.additionalProperties = additionalProperties
    }

    /// This (default) setting as a partner sees it: the partner's parts where it sets them, this one's otherwise.
    func overridden(by partner: CrossTenantAccessPolicyB2BSetting?) -> Self {
        guard let partner else { return self }
        return Self(
            usersAndGroups: partner.usersAndGroups ?? usersAndGroups,
            usersAndGroupsOrigin: partner.usersAndGroups == nil ? .default : .partner,
            applications: partner.applications ?? applications,
            applicationsOrigin: partner.applications == nil ? .default : .partner,
            additionalProperties: partner.additionalProperties
        )
    }

    /// Whether neither part was set by the partner.
    var isWhollyInherited: Bool { usersAndGroupsOrigin == .default && applicationsOrigin == .default }

    /// The parts taken from the default configuration, by Graph name.
    var inheritedParts: [String] {
        (usersAndGroupsOrigin == .default ? ["usersAndGroups"] : [])
            + (applicationsOrigin == .default ? ["applications"] : [])
    }

    /// The resolved setting in Graph's shape; nil when neither part is restricted anywhere.
    var graphSetting: CrossTenantAccessPolicyB2BSetting? {
        guard usersAndGroups != nil || applications != nil else { return nil }
        return CrossTenantAccessPolicyB2BSetting(
            usersAndGroups: usersAndGroups,
            applications: applications,
            additionalProperties: additionalProperties
        )
    }
}
