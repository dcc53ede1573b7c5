extension CrossTenantAccessPolicy {
    /// Answers one question from the partner's configuration, or the default's when the tenant is not a partner
    /// or leaves the setting null (SPEC 2.2). No JSON or string work beyond what the query did when it was made.
    package func evaluate(_ query: CrossTenantAccessQuery) -> CrossTenantAccessResult {
        let partnerSettings = index.partnerSettings[query.partner]
        let setting = (partnerSettings ?? index.defaultSettings).setting(query.kind, query.direction)
        let users = CrossTenantAccessResult.PartVerdict(
            configuration: setting.usersAndGroups,
            matchedTarget: setting.usersAndGroups?.matcher.matchingTarget(for: query.user)
        )
        let applications = CrossTenantAccessResult.PartVerdict(
            configuration: setting.applications,
            matchedTarget: setting.applications?.matcher.matchingTarget(forApplication: query.normalizedApplication)
        )
        return CrossTenantAccessResult(
            query: query,
            partnerExists: partnerSettings != nil,
            setting: setting,
            usersAndGroups: users,
            applications: applications
        )
    }
}
