/// One problem found in a policy file: which file, which field, which line, and what is wrong (SPEC 4 `validate`).
///
/// Validation collects every diagnostic rather than stopping at the first, so an administrator fixes all at once.
package struct PolicyDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Severity: String, Hashable, Sendable {
        case error
        case warning
    }

    package let severity: Severity
    /// The file's path as the directory listing gave it.
    package let file: String
    /// The field path, e.g. `isolation.rules[2].direction`; empty for the whole file.
    package let field: String
    package let line: Int?
    package let message: String

    package init(_ severity: Severity = .error, file: String, field: String, line: Int?, message: String) {
        self.severity = severity
        self.file = file
        self.field = field
        self.line = line
        self.message = message
    }

    /// `policies/contoso.yaml:12: isolation.rules[2].direction: 'sideways' is not …`.
    package var description: String {
        var location = file
        if let line { location += ":\(line)" }
        let prefix = severity == .warning ? "warning: " : ""
        return field.isEmpty ? "\(location): \(prefix)\(message)" : "\(location): \(prefix)\(field): \(message)"
    }
}

/// A policy directory that failed validation; it is never applied (SPEC 5).
package struct PolicyValidationError: Error, CustomStringConvertible, Sendable {
    package let diagnostics: [PolicyDiagnostic]

    package init(diagnostics: [PolicyDiagnostic]) {
        self.diagnostics = diagnostics
    }

    package var errors: [PolicyDiagnostic] { diagnostics.filter { $0.severity == .error } }

    package var description: String {
        let count = errors.count
        return "\(count) error\(count == 1 ? "" : "s") in policies:\n"
            + diagnostics.map { "  \($0)" }.joined(separator: "\n")
    }
}
