import Foundation
import TenantPolicy

/// Loads and validates a policies directory (`*.json`, `*.yaml`, `*.yml`, optional `directory.yaml`; SPEC 4).
///
/// Parsing happens per file; resolution (domains to IDs, duplicates, self-rules, two files for one tenant) needs
/// the whole directory, so it runs once every file is parsed. Any error refuses the whole set.
package enum PolicyDirectoryLoader {
    /// A policy file's name and text, as read from disk or received by the admin API.
    package struct SourceFile: Sendable {
        package let name: String
        package let contents: String
        package init(name: String, contents: String) {
            self.name = name
            self.contents = contents
        }
    }

    /// Reads every policy file of `directory` and validates the set.
    package static func load(directory: String) -> Result<PolicyBundle, PolicyValidationError> {
        PolicyDirectoryContents.read(directory).flatMap(\.library.outcome)
    }

    /// The policy files of a directory, sorted by name; unreadable files become diagnostics.
    package static func readSourceFiles(directory: String) -> Result<[SourceFile], PolicyValidationError> {
        switch policyFileNames(directory) {
        case .failure(let error): return .failure(error)
        case .success(let names):
            var files: [SourceFile] = []
            var diagnostics: [PolicyDiagnostic] = []
            for name in names {
                switch readText(path(directory, name)) {
                case .success(let text): files.append(SourceFile(name: path(directory, name), contents: text))
                case .failure(let diagnostic): diagnostics.append(diagnostic)
                }
            }
            return diagnostics.isEmpty ? .success(files) : .failure(.init(diagnostics: diagnostics))
        }
    }

    /// The names of a directory's policy files, sorted; a directory that cannot be listed is the one error.
    static func policyFileNames(_ directory: String) -> Result<[String], PolicyValidationError> {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(
                .init(diagnostics: [
                    PolicyDiagnostic(file: directory, field: "", line: nil, message: "is not a readable directory")
                ])
            )
        }
        do {
            return .success(try manager.contentsOfDirectory(atPath: directory).filter(isPolicyFileName).sorted())
        } catch {
            return .failure(
                .init(diagnostics: [
                    PolicyDiagnostic(
                        file: directory,
                        field: "",
                        line: nil,
                        message: "cannot be listed: \(error.localizedDescription)"
                    )
                ])
            )
        }
    }

    static func path(_ directory: String, _ name: String) -> String {
        (directory as NSString).appendingPathComponent(name)
    }

    /// A policy file's text, or why it cannot be had.
    static func readText(_ path: String) -> Result<String, PolicyDiagnostic> {
        guard hasPolicyExtension((path as NSString).lastPathComponent) else {
            // Else `CONTOSO.YAML` was left out without a word, and its tenant's isolation with it (review 28).
            return .failure(
                PolicyDiagnostic(
                    file: path,
                    field: "",
                    line: nil,
                    message: "is not read: a policy file's name ends in .json, .yaml or .yml, in lower case; rename it"
                )
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(PolicyDiagnostic(file: path, field: "", line: nil, message: "cannot be read"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(PolicyDiagnostic(file: path, field: "", line: nil, message: "is not UTF-8 text"))
        }
        return .success(text)
    }

    /// A name that is a policy file's, or looks like one in another case (`CONTOSO.YAML`), which `readText` then
    /// refuses with a diagnostic rather than leaving out unseen.
    package static func isPolicyFileName(_ name: String) -> Bool {
        !name.hasPrefix(".") && hasPolicyExtension(name.lowercased())
    }

    private static func hasPolicyExtension(_ name: String) -> Bool {
        name.hasSuffix(".json") || name.hasSuffix(".yaml") || name.hasSuffix(".yml")
    }

    /// Validates a set of policy files as one directory.
    package static func load(files: [SourceFile]) -> Result<PolicyBundle, PolicyValidationError> {
        PolicyLibrary(files: files).outcome
    }
}
