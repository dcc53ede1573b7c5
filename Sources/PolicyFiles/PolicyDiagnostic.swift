/// One problem found in a policy file: which file, which field, which line, and what is wrong (SPEC 4 `validate`).
///
/// Validation collects every diagnostic rather than stopping at the first, so an administrator fixes all at once.
public struct PolicyDiagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    public let severity: Severity
    /// The file's path as the directory listing gave it.
    public let file: String
    /// The field path, e.g. `isolation.rules[2].direction`; empty for the whole file.
    public let field: String
    public let line: Int?
    public let message: String

    public init(_ severity: Severity = .error, file: String, field: String, line: Int?, message: String) {
        self.severity = severity
        self.file = file
        self.field = field
        self.line = line
        self.message = message
    }

    /// `policies/contoso.yaml:12: isolation.rules[2].direction: 'sideways' is not …`.
    public var description: String {
        var location = file
        if let line { location += ":\(line)" }
        let prefix = severity == .warning ? "warning: " : ""
        return field.isEmpty ? "\(location): \(prefix)\(message)" : "\(location): \(prefix)\(field): \(message)"
    }
}

/// A policy directory that failed validation; it is never applied (SPEC 5).
public struct PolicyValidationError: Error, CustomStringConvertible, Sendable {
    public let diagnostics: [PolicyDiagnostic]

    public init(diagnostics: [PolicyDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var errors: [PolicyDiagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let count = errors.count
        return "\(count) error\(count == 1 ? "" : "s") in policies:\n"
            + diagnostics.map { "  \($0)" }.joined(separator: "\n")
    }
}
