import TenantPolicy

/// Checks one B2B setting or tenant restrictions: its access types, its targets, and Graph's rule that users and
/// applications must not conflict (ENTRA-FACTS 4).
enum SettingValidator {
    /// Checks `setting` as written at `path`, and the conflict rule on `resolved`: the setting as it applies,
    /// with parts it leaves null taken from the default.
    static func check(
        _ setting: CrossTenantAccessPolicyB2BSetting,
        resolved: ResolvedB2BSetting,
        at path: String,
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        if let users = setting.usersAndGroups {
            check(users, side: .usersAndGroups, at: "\(path).usersAndGroups", into: &diagnostics)
        }
        if let applications = setting.applications {
            check(applications, side: .applications, at: "\(path).applications", into: &diagnostics)
        }
        checkConflict(resolved, at: path, into: &diagnostics)
    }

    /// Which half of a setting a target configuration is.
    private enum Side: String {
        case usersAndGroups
        case applications

        func accepts(_ type: CrossTenantAccessTargetType.Meaning) -> Bool {
            switch (self, type) {
            case (.usersAndGroups, .user), (.usersAndGroups, .group), (.applications, .application): true
            case (.usersAndGroups, .application), (.applications, .user), (.applications, .group): false
            case (_, .unknownFutureValue), (_, .unrecognized): false
            }
        }

        var expected: String {
            switch self {
            case .usersAndGroups: "'user' or 'group'"
            case .applications: "'application'"
            }
        }
    }

    private static func check(
        _ configuration: CrossTenantAccessPolicyTargetConfiguration,
        side: Side,
        at path: String,
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        let accessType = configuration.accessType
        switch accessType.meaning {
        case .allowed, .blocked:
            if accessType.hasTolerableSpelling {
                let value = accessType.rawValue.trimmingWhitespace()
                diagnostics.append(
                    .init(
                        .warning,
                        field: "\(path).accessType",
                        message: "'\(accessType.rawValue)' has stray whitespace; read as '\(value)'"
                    )
                )
            }
        case .unknownFutureValue:
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).accessType",
                    message: "'unknownFutureValue' is Graph's placeholder for future values; use 'allowed' or 'blocked'"
                )
            )
        case .unrecognized:
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).accessType",
                    message: "'\(accessType.rawValue)' is not an access type; use 'allowed' or 'blocked'"
                )
            )
        }
        if configuration.targets.isEmpty {
            let everyone = side == .usersAndGroups ? "AllUsers" : "AllApplications"
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).targets",
                    message: "lists no targets; name at least one (\(everyone) for everyone)"
                )
            )
        }
        for (position, target) in configuration.targets.enumerated() {
            check(target, side: side, at: "\(path).targets[\(position)]", into: &diagnostics)
        }
    }

    private static func check(
        _ target: CrossTenantAccessPolicyTarget,
        side: Side,
        at path: String,
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        checkSpelling(of: target.target, at: "\(path).target", into: &diagnostics)
        let type = target.targetType
        switch type.meaning {
        case .unknownFutureValue, .unrecognized:
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).targetType",
                    message: "'\(type.rawValue)' is not a target type; use 'user', 'group' or 'application'"
                )
            )
            return
        case .user, .group, .application:
            break
        }
        if let keyword = target.keyword, keyword.targetType.meaning != type.meaning {
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).targetType",
                    message: "'\(keyword.rawValue)' requires targetType '\(keyword.targetType)', not '\(type.rawValue)'"
                )
            )
        } else if !side.accepts(type.meaning) {
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).targetType",
                    message: "\(side.rawValue) takes \(side.expected) targets, not '\(type.rawValue)'"
                )
            )
        }
    }

    /// A keyword is spelled as Graph spells it: `allusers` would be kept as an ID that nothing matches, and a block
    /// written with it would block nothing (review 54). White space around a target is read past, with a warning.
    private static func checkSpelling(
        of target: String,
        at field: String,
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        let trimmed = target.trimmingWhitespace()
        if trimmed.isEmpty {
            diagnostics.append(.init(.error, field: field, message: "is empty; name an ID or a keyword"))
            return
        }
        if trimmed != target {
            diagnostics.append(
                .init(.warning, field: field, message: "'\(target)' has stray whitespace; read as '\(trimmed)'")
            )
        }
        let keywords = CrossTenantAccessPolicyTarget.Keyword.allCases
        if CrossTenantAccessPolicyTarget.Keyword(rawValue: trimmed) == nil,
            let keyword = keywords.first(where: { $0.rawValue.lowercased() == trimmed.lowercased() })
        {
            diagnostics.append(
                .init(
                    .error,
                    field: field,
                    message: "'\(target)' is not a keyword; did you mean '\(keyword.rawValue)'?"
                )
            )
        }
    }

    /// Graph's rule: blocking all users requires blocking all applications, and allowing any users forbids
    /// blocking all applications.
    private static func checkConflict(
        _ setting: ResolvedB2BSetting,
        at path: String,
        into diagnostics: inout [CrossTenantAccessDiagnostic]
    ) {
        guard let users = setting.usersAndGroups, let applications = setting.applications else { return }
        let blocksAllApplications =
            applications.accessType.meaning == .blocked
            && applications.targets.contains { $0.keyword == .allApplications }
        let inherited = setting.inheritedParts.count == 1 ? " (\(setting.inheritedParts[0]) from the default)" : ""
        switch users.accessType.meaning {
        case .blocked where users.targets.contains { $0.keyword == .allUsers } && !blocksAllApplications:
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).applications",
                    message: "usersAndGroups blocks AllUsers, so applications must block AllApplications\(inherited)"
                )
            )
        case .allowed where blocksAllApplications:
            diagnostics.append(
                .init(
                    .error,
                    field: "\(path).applications",
                    message: "usersAndGroups allows users, so applications must not block AllApplications\(inherited)"
                )
            )
        case .allowed, .blocked, .unknownFutureValue, .unrecognized:
            break
        }
    }
}
