/// The targets of one target configuration, compiled for matching (SPEC 2.2): keyword flags and ID tables keyed by
/// the IDs' one spelling (`ObjectID`) that map back to the target as written, so that a match can be reported.
///
/// Keywords match by name whatever their `targetType` (validation reports a wrong pairing); other targets by
/// `targetType`. A target of an unrecognized type never matches.
struct TargetMatcher: Hashable, Sendable {
    private var allUsers = false
    private var allApplications = false
    private var office365 = false
    private var allMicrosoftApps = false
    private var users: [String: String] = [:]
    private var groups: [String: String] = [:]
    private var applications: [String: String] = [:]

    init(_ targets: [CrossTenantAccessPolicyTarget]) {
        for target in targets {
            if let keyword = target.keyword {
                switch keyword {
                case .allUsers: allUsers = true
                case .allApplications: allApplications = true
                case .office365: office365 = true
                case .allMicrosoftApps: allMicrosoftApps = true
                }
                continue
            }
            let key = ObjectID.key(target.target)
            switch target.targetType.meaning {
            case .user: users[key] = users[key] ?? target.target
            case .group: groups[key] = groups[key] ?? target.target
            case .application: applications[key] = applications[key] ?? target.target
            case .unknownFutureValue, .unrecognized: break
            }
        }
    }

    /// Whether users or groups are named: an unknown user could be one of them.
    var namesParticularUsers: Bool { !users.isEmpty || !groups.isEmpty }

    /// Whether groups are named: a user whose groups are not known could be in one.
    var namesGroups: Bool { !groups.isEmpty }

    /// Whether applications are named, one by one or as Microsoft's sets: an unknown application could be one.
    var namesParticularApplications: Bool { !applications.isEmpty || office365 || allMicrosoftApps }

    /// The target that matches `user` (its own ID first, then its groups in order, then `AllUsers`), or nil.
    /// An unknown user matches only `AllUsers`.
    func matchingTarget(for user: UserIdentity?) -> String? {
        if let user {
            if let target = users[user.normalizedID] { return target }
            for group in user.normalizedGroupIDs {
                if let target = groups[group] { return target }
            }
        }
        return allUsers ? CrossTenantAccessPolicyTarget.Keyword.allUsers.rawValue : nil
    }

    /// The target that matches the application (its ID, then `Office365`, `AllMicrosoftApps`,
    /// `AllApplications`), or nil. An unknown application matches only `AllApplications`.
    func matchingTarget(forApplication normalizedID: String?) -> String? {
        if let normalizedID {
            if let target = applications[normalizedID] { return target }
            if office365, MicrosoftFirstPartyApplications.office365.contains(normalizedID) {
                return CrossTenantAccessPolicyTarget.Keyword.office365.rawValue
            }
            if allMicrosoftApps, MicrosoftFirstPartyApplications.all.contains(normalizedID) {
                return CrossTenantAccessPolicyTarget.Keyword.allMicrosoftApps.rawValue
            }
        }
        return allApplications ? CrossTenantAccessPolicyTarget.Keyword.allApplications.rawValue : nil
    }
}
