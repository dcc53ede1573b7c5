/// One problem found in cross-tenant access settings: how serious, where (a JSON field path such as
/// `partners[2].b2bCollaborationInbound.applications.accessType`) and what is wrong.
///
/// Validation collects every diagnostic rather than stopping at the first (STYLE 6); the file loader adds the
/// file name and line.
package struct CrossTenantAccessDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// An error makes the settings unusable; a warning names something tolerated.
    package enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    package let severity: Severity
    package let field: String
    package let message: String

    package init(_ severity: Severity, field: String, message: String) {
        self.severity = severity
        self.field = field
        self.message = message
    }

    /// `warning: partners[0].b2bCollaborationInbound.usersAndGroups.accessType: …`.
    package var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return field.isEmpty ? "\(prefix)\(message)" : "\(prefix)\(field): \(message)"
    }
}
