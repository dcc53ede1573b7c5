import TenantPolicy

/// The answer to a `CrossTenantAccessQuery`: allowed or not, which configuration and setting answered, whether
/// the value was inherited from the default, and the target that decided (SPEC 2.2).
///
/// The explanation is built only when asked for, so evaluation on the data plane pays nothing for it (the habit of
/// swift-certificates' lazily built policy failure reasons).
package struct CrossTenantAccessResult: Hashable, Sendable {
    /// Which configuration the answer came from.
    package enum Configuration: Hashable, Sendable, CustomStringConvertible {
        case partner(TenantID)
        case `default`

        package var description: String {
            switch self {
            case .partner(let tenant): "partner \(tenant)"
            case .default: "default"
            }
        }
    }

    /// What one part (`usersAndGroups` or `applications`) did with the query.
    struct PartVerdict: Hashable, Sendable {
        /// The resolved part; nil when nothing restricts it.
        let configuration: CrossTenantAccessPolicyTargetConfiguration?
        /// The target of the part that matched the user or application, if any.
        let matchedTarget: String?
        /// The user or application is unknown (for a user, or its groups) and the part names particular ones it
        /// could be.
        let unknownMayMatch: Bool

        var isBlockedType: Bool { configuration?.accessType.meaning == .blocked }

        /// Whether the party is, or may be, one the targets name.
        var mayMatch: Bool { matchedTarget != nil || unknownMayMatch }

        /// Allowed: admits what matches. Blocked: admits what cannot match, so an unknown party passes a list of
        /// named ones only when it cannot be one of them (fail closed, review 29: an ID token without `profile`
        /// names no user, and walked past a block of named users). Any other access type admits nothing.
        var admits: Bool {
            guard let configuration else { return true }
            switch configuration.accessType.meaning {
            case .allowed: return matchedTarget != nil
            case .blocked: return !mayMatch
            case .unknownFutureValue, .unrecognized: return false
            }
        }
    }

    package let isAllowed: Bool
    package let configuration: Configuration
    /// The Graph property that answered, e.g. `b2bCollaborationInbound`.
    package let settingName: String
    /// True when a partner configuration exists but some or all of the answer came from the default.
    package let inherited: Bool
    /// The target that decided, as written (`g1`, `AllApplications`); nil when the absence of a match decided.
    package let decidingTarget: String?
    /// The question this answers.
    package let query: CrossTenantAccessQuery
    let usersAndGroups: PartVerdict
    let applications: PartVerdict
    let inheritedParts: [String]

    init(
        query: CrossTenantAccessQuery,
        partnerExists: Bool,
        setting: ResolvedB2BSetting,
        usersAndGroups: PartVerdict,
        applications: PartVerdict
    ) {
        self.query = query
        self.usersAndGroups = usersAndGroups
        self.applications = applications
        settingName = query.settingName
        if !partnerExists {
            configuration = .default
            inherited = false
            inheritedParts = []
        } else {
            configuration = setting.isWhollyInherited ? .default : .partner(query.partner)
            inheritedParts = setting.inheritedParts
            inherited = !inheritedParts.isEmpty
        }
        if usersAndGroups.isBlockedType && applications.isBlockedType {
            // Both blocked: blocked iff the user matches AND the application matches.
            let blocked = usersAndGroups.mayMatch && applications.mayMatch
            isAllowed = !blocked
            decidingTarget =
                blocked ? Self.mostSpecific(usersAndGroups.matchedTarget, applications.matchedTarget) : nil
        } else if !usersAndGroups.admits {
            isAllowed = false
            decidingTarget = usersAndGroups.matchedTarget
        } else if !applications.admits {
            isAllowed = false
            decidingTarget = applications.matchedTarget
        } else {
            isAllowed = true
            decidingTarget = Self.mostSpecific(
                usersAndGroups.isBlockedType ? nil : usersAndGroups.matchedTarget,
                applications.isBlockedType ? nil : applications.matchedTarget
            )
        }
    }

    /// The narrower of two matched targets: an ID before `Office365` or `AllMicrosoftApps`, before `AllUsers` or
    /// `AllApplications`; the users' target on a tie.
    private static func mostSpecific(_ first: String?, _ second: String?) -> String? {
        func breadth(_ target: String) -> Int {
            switch CrossTenantAccessPolicyTarget.Keyword(rawValue: target) {
            case nil: 0
            case .office365?, .allMicrosoftApps?: 1
            case .allUsers?, .allApplications?: 2
            }
        }
        guard let first else { return second }
        guard let second else { return first }
        return breadth(second) < breadth(first) ? second : first
    }
}
