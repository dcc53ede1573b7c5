/// One problem found in cross-tenant access settings: how serious, where (a JSON field path such as
/// `partners[2].b2bCollaborationInbound.applications.accessType`) and what is wrong.
///
/// Validation collects every diagnostic rather than stopping at the first (STYLE 6); the file loader adds the
/// file name and line.
public struct CrossTenantAccessDiagnostic: Hashable, Sendable, CustomStringConvertible {
    /// An error makes the settings unusable; a warning names something tolerated.
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public let severity: Severity
    public let field: String
    public let message: String

    public init(_ severity: Severity, field: String, message: String) {
        self.severity = severity
        self.field = field
        self.message = message
    }

    /// `warning: partners[0].b2bCollaborationInbound.usersAndGroups.accessType: …`.
    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        return field.isEmpty ? "\(prefix)\(message)" : "\(prefix)\(field): \(message)"
    }
}
