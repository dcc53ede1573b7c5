import Foundation
import Plumbing
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
        switch readSourceFiles(directory: directory) {
        case .failure(let error): .failure(error)
        case .success(let files): load(files: files)
        }
    }

    /// The policy files of a directory, sorted by name; unreadable files become diagnostics.
    package static func readSourceFiles(directory: String) -> Result<[SourceFile], PolicyValidationError> {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return .failure(
                .init(diagnostics: [
                    PolicyDiagnostic(file: directory, field: "", line: nil, message: "is not a readable directory")
                ])
            )
        }
        let names: [String]
        do {
            names = try manager.contentsOfDirectory(atPath: directory)
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
        var files: [SourceFile] = []
        var diagnostics: [PolicyDiagnostic] = []
        for name in names.sorted() where isPolicyFileName(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = manager.contents(atPath: path) else {
                diagnostics.append(PolicyDiagnostic(file: path, field: "", line: nil, message: "cannot be read"))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(PolicyDiagnostic(file: path, field: "", line: nil, message: "is not UTF-8 text"))
                continue
            }
            files.append(SourceFile(name: path, contents: text))
        }
        return diagnostics.isEmpty ? .success(files) : .failure(.init(diagnostics: diagnostics))
    }

    package static func isPolicyFileName(_ name: String) -> Bool {
        !name.hasPrefix(".") && (name.hasSuffix(".json") || name.hasSuffix(".yaml") || name.hasSuffix(".yml"))
    }

    /// Validates a set of policy files as one directory.
    package static func load(files: [SourceFile]) -> Result<PolicyBundle, PolicyValidationError> {
        var diagnostics: [PolicyDiagnostic] = []
        var parsedFiles: [ParsedPolicyFile] = []
        for file in files {
            let baseName = (file.name as NSString).lastPathComponent
            let isDirectory = baseName == "directory.yaml" || baseName == "directory.yml"
            let (parsed, found) = PolicyFileParser.parse(
                file: file.name,
                contents: file.contents,
                isDirectory: isDirectory
            )
            diagnostics += found
            if let parsed { parsedFiles.append(parsed) }
        }
        var resolver = PolicyResolver()
        let (bundle, resolutionDiagnostics) = resolver.resolve(parsedFiles, version: contentVersion(files))
        diagnostics += resolutionDiagnostics
        if diagnostics.contains(where: { $0.severity == .error }) {
            return .failure(.init(diagnostics: diagnostics))
        }
        return .success(
            PolicyBundle(
                isolation: bundle.isolation,
                isolationSources: bundle.isolationSources,
                crossTenantAccess: bundle.crossTenantAccess,
                crossTenantAccessSources: bundle.crossTenantAccessSources,
                warnings: diagnostics,
                version: bundle.version
            )
        )
    }

    /// A hash of the files' names and contents: stable, cheap, enough to tell loaded versions apart.
    private static func contentVersion(_ files: [SourceFile]) -> String {
        var hash = ContentHash()
        for file in files {
            // The file's own name, not the path it was read by: `policies`, `./policies/` and an absolute path
            // load the same version.
            hash.add((file.name as NSString).lastPathComponent)
            hash.add(file.contents)
        }
        return hash.hex
    }
}
