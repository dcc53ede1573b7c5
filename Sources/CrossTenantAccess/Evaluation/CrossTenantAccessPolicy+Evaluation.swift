extension CrossTenantAccessPolicy {
    /// Answers one question from the partner's configuration, or the default's when the tenant is not a partner
    /// or leaves the setting null (SPEC 2.2). No JSON or string work beyond what the query did when it was made.
    package func evaluate(_ query: CrossTenantAccessQuery) -> CrossTenantAccessResult {
        let partnerSettings = index.partnerSettings[query.partner]
        let setting = (partnerSettings ?? index.defaultSettings).setting(query.kind, query.direction)
        let userMatcher = setting.usersAndGroups?.matcher
        let users = CrossTenantAccessResult.PartVerdict(
            configuration: setting.usersAndGroups,
            matchedTarget: userMatcher?.matchingTarget(for: query.user),
            unknownMayMatch: query.user.map { !$0.groupsKnown && userMatcher?.namesGroups == true }
                ?? (userMatcher?.namesParticularUsers == true)
        )
        let applicationMatcher = setting.applications?.matcher
        let applications = CrossTenantAccessResult.PartVerdict(
            configuration: setting.applications,
            matchedTarget: applicationMatcher?.matchingTarget(forApplication: query.normalizedApplication),
            unknownMayMatch: query.normalizedApplication == nil
                && applicationMatcher?.namesParticularApplications == true
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
