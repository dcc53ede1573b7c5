import Foundation
import Plumbing
import PolicyFiles

/// `tenantgate policies import DIR` and `export DIR`: a policies directory into the store and out again, file for
/// document, byte for byte, so that a round trip gives the same files (and the same policy version).
package enum PolicyTransfer {
    package struct Failure: Error, CustomStringConvertible {
        package let lines: [String]
        package var description: String { lines.joined(separator: "\n") }
    }

    /// A policies directory validated whole and read, ready to replace the store's documents: made before any store
    /// is reached, so that `import` reports every validation error even when the store cannot be reached.
    package struct Import: Sendable {
        package let documents: [PolicyDatabase.Document]
        package let version: String
        private let source: String

        /// Validates and reads `directory`; throws `Failure` with every error.
        package init(directory: String) throws {
            let bundle: PolicyBundle
            switch PolicyDirectoryLoader.load(directory: directory) {
            case .failure(let error):
                throw Failure(
                    lines: error.errors.map(\.description)
                        + ["\(directory): invalid, \(error.errors.count) error(s); nothing was imported"]
                )
            case .success(let loaded): bundle = loaded
            }
            let files = try PolicyDirectoryLoader.readSourceFiles(directory: directory).get()
            let documents = files.map {
                PolicyDatabase.Document(name: ($0.name as NSString).lastPathComponent, body: $0.contents)
            }
            let unnamable = documents.map(\.name).filter { !PolicyTransfer.isDocumentName($0) }
            guard unnamable.isEmpty else {
                throw Failure(
                    lines: unnamable.map { "\(directory)/\($0): a document name is letters, digits, '.', '_' and '-'" }
                        + ["\(directory): nothing was imported"]
                )
            }
            self.documents = documents
            self.version = bundle.version
            self.source = directory
        }

        /// Makes the store hold exactly these documents, in one transaction with its `policy_changes` row.
        package func apply(to database: PolicyDatabase) async throws {
            let line: [String: Any] = [
                "time": RFC3339.string(from: Date(), milliseconds: true), "event": "policy_import", "source": source,
                "documents": documents.map(\.name), "policy_version": version,
            ]
            let text = String(
                decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]),
                as: UTF8.self
            )
            try await database.replaceAll(with: documents, auditLine: text)
        }
    }

    /// Writes every stored document to `directory` (made if missing), which must hold no policy files yet: an export
    /// never mixes with another set. Returns the documents written and, when the stored set does not validate, its
    /// errors (the files are written all the same, to be mended and imported again).
    package static func exportDirectory(
        _ directory: String,
        from database: PolicyDatabase
    ) async throws -> (documents: Int, errors: [PolicyDiagnostic]) {
        let manager = FileManager.default
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let present = try manager.contentsOfDirectory(atPath: directory).filter(PolicyDirectoryLoader.isPolicyFileName)
        guard present.isEmpty else {
            throw Failure(lines: [
                "\(directory) already holds policy files (\(present.sorted().joined(separator: ", "))): export into an empty directory"
            ])
        }
        let documents = try await database.documents()
        for document in documents {
            try DurableFile.replace(
                (directory as NSString).appendingPathComponent(document.name),
                contents: Array(document.body.utf8)
            )
        }
        let files = documents.map { PolicyDirectoryLoader.SourceFile(name: $0.name, contents: $0.body) }
        if case .failure(let error) = PolicyDirectoryLoader.load(files: files) {
            return (documents.count, error.errors)
        }
        return (documents.count, [])
    }

    /// What the schema's CHECK accepts, said before the database refuses it.
    static func isDocumentName(_ name: String) -> Bool {
        name.range(of: #"^[A-Za-z0-9][A-Za-z0-9._-]*\.(json|yaml|yml)$"#, options: .regularExpression) != nil
    }
}
