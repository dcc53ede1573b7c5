extension CrossTenantAccessResult {
    /// One readable sentence: the verdict, the setting and configuration that gave it, and why.
    package var explanation: String {
        "\(isAllowed ? "Allowed" : "Blocked") by \(settingName) of \(source): \(reason)."
    }

    private var source: String {
        switch configuration {
        case .partner(let tenant):
            let note = inheritedParts.isEmpty ? "" : " (\(inheritedParts.joined(separator: " and ")) from the default)"
            return "the partner configuration for \(tenant)\(note)"
        case .default:
            return inherited
                ? "the default configuration, which partner \(query.partner) inherits" : "the default configuration"
        }
    }

    private var user: String {
        guard let user = query.user else { return "an unknown user" }
        return user.groupsKnown ? "user \(user.id)" : "user \(user.id), whose groups are not known,"
    }
    private var application: String { query.application.map { "application \($0)" } ?? "an unknown application" }

    private var reason: String {
        if usersAndGroups.configuration == nil && applications.configuration == nil {
            return "no \(settingName) are configured, so every user and application is admitted"
        }
        if usersAndGroups.isBlockedType && applications.isBlockedType {
            let rule =
                "both usersAndGroups and applications are blocked, which blocks only a matching user at a "
                + "matching application"
            if !usersAndGroups.mayMatch { return "\(rule); \(user) matches none of \(Self.list(usersAndGroups))" }
            if !applications.mayMatch {
                return "\(rule); \(application) matches none of \(Self.list(applications))"
            }
            return "\(rule), and \(user) \(Self.match(usersAndGroups)) and \(application) \(Self.match(applications))"
        }
        if !usersAndGroups.admits { return Self.refusal(usersAndGroups, part: "usersAndGroups", subject: user) }
        if !applications.admits { return Self.refusal(applications, part: "applications", subject: application) }
        return "usersAndGroups admits \(user) (\(Self.admission(usersAndGroups))) and applications admits "
            + "\(application) (\(Self.admission(applications)))"
    }

    private static func refusal(_ verdict: PartVerdict, part: String, subject: String) -> String {
        guard let configuration = verdict.configuration else { return "\(part) is not restricted" }
        switch configuration.accessType.meaning {
        case .allowed:
            return "\(subject) matches none of the allowed \(part) \(list(verdict))"
        case .blocked:
            guard let target = verdict.matchedTarget else {
                return "\(subject) could be one of the blocked \(part) \(list(verdict)) (fail closed)"
            }
            return "\(subject) matches the blocked target '\(target)' of \(part)"
        case .unknownFutureValue, .unrecognized:
            return "\(part) has accessType '\(configuration.accessType.rawValue)', which admits nobody"
        }
    }

    /// How a party matched a part: by a target, or by being unknown where particular ones are named.
    private static func match(_ verdict: PartVerdict) -> String {
        guard let target = verdict.matchedTarget else { return "could be one of \(list(verdict)) (fail closed)" }
        return "matches '\(target)'"
    }

    private static func admission(_ verdict: PartVerdict) -> String {
        guard let configuration = verdict.configuration else { return "not restricted" }
        switch configuration.accessType.meaning {
        case .allowed: return "allowed target '\(verdict.matchedTarget ?? "")'"
        case .blocked: return "no blocked target matches"
        case .unknownFutureValue, .unrecognized: return "accessType '\(configuration.accessType.rawValue)'"
        }
    }

    private static func list(_ verdict: PartVerdict) -> String {
        let targets = verdict.configuration?.targets.map { "'\($0.target)'" } ?? []
        return "(\(targets.joined(separator: ", ")))"
    }
}
