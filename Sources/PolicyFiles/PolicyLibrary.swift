import CrossTenantAccess
import Dispatch
import Foundation
import Plumbing
import TenantPolicy

/// The policy documents as stored, each parsed once, and the set they make (or why they make none).
///
/// A change costs the change: `updating` parses only the documents whose content differs, and the next set shares
/// every unchanged tenant's rules and index with this one (copy-on-write arrays and dictionaries, never copied). What
/// spans documents (one file per tenant, domains and their owners, directory names, rules written with a domain) is
/// settled again on each change from small per-document summaries, so its cost grows with the number of documents
/// and domains, not rules. A first load parses every document in parallel, on every core.
package struct PolicyLibrary: Sendable {
    /// One document as parsed, with what can be settled from it alone.
    struct Document: Sendable {
        /// The content's 64-bit FNV-1a hash: equal content is never parsed twice.
        let contentHash: UInt64
        /// Nil when the document could not be read or parsed at all (its diagnostics say why).
        var parsed: ParsedPolicyFile?
        /// Reading and parsing problems, errors and warnings.
        let diagnostics: [PolicyDiagnostic]
        /// The isolation policy resolved from this document alone, when none of its rules names a domain, and the
        /// problems found resolving it; the written rules are dropped then (a million of them would stay in memory).
        let ownRules: ResolvedRules?
        /// The last resolution of a document whose rules name domains, and what each domain resolved to then: kept
        /// while the directory still resolves them the same way.
        var domainRules: (domains: [String: TenantID?], rules: ResolvedRules)?

        init(name: String, contents: String) {
            var hash = ContentHash()
            hash.add(contents)
            contentHash = hash.value
            let baseName = (name as NSString).lastPathComponent
            let isDirectory = baseName == "directory.yaml" || baseName == "directory.yml"
            let (found, diagnostics) = PolicyFileParser.parse(file: name, contents: contents, isDirectory: isDirectory)
            self.diagnostics = diagnostics
            parsed = found
            if let isolation = found?.isolation, !isolation.rules.contains(where: \.namesDomain) {
                ownRules = ResolvedRules(isolation, file: name) { _ in nil }
                parsed?.isolation?.rules = []
            } else {
                ownRules = nil
            }
        }

        /// A document that could not be read.
        init(unreadable diagnostic: PolicyDiagnostic) {
            contentHash = 0
            parsed = nil
            diagnostics = [diagnostic]
            ownRules = nil
        }
    }

    private var documents: [String: Document]
    /// The set these documents make, or every problem that keeps them from making one.
    package private(set) var outcome: Result<PolicyBundle, PolicyValidationError>
    /// How many documents were parsed to make this library since its first load (tests count them).
    package private(set) var parsedDocuments: Int
    /// The sum of the documents' version shares (`versionShare`), kept up to date by every change.
    private var versionSum: UInt64

    /// Parses every document, in parallel.
    package init(files: [PolicyDirectoryLoader.SourceFile]) {
        let documents = Self.parseInParallel(files.map(\.name)) { index in
            Document(name: files[index].name, contents: files[index].contents)
        }
        self.init(documents: documents)
    }

    init(documents: [String: Document]) {
        self.documents = documents
        parsedDocuments = documents.count
        versionSum = documents.reduce(0) { $0 &+ Self.versionShare($1.key, $1.value) }
        outcome = .failure(PolicyValidationError(diagnostics: []))
        settle()
    }

    /// The version of the documents as they are (valid or not): their set's version when they make one.
    package var version: String { ContentHash.hex(versionSum) }

    /// The names of the documents, sorted.
    package var names: [String] { documents.keys.sorted() }

    /// Whether the library holds `name` with exactly `contents`.
    package func holds(_ name: String, contents: String) -> Bool {
        var hash = ContentHash()
        hash.add(contents)
        return documents[name]?.contentHash == hash.value
    }

    /// This library with `changes` applied: a name mapped to text is written (added or replaced), to nil removed.
    /// Only documents whose content differs are parsed.
    package func updating(_ changes: [String: String?]) -> PolicyLibrary {
        var parsed: [String: Document?] = [:]
        for (name, contents) in changes {
            guard let contents else {
                parsed[name] = .some(nil)
                continue
            }
            guard !holds(name, contents: contents) else { continue }
            parsed[name] = Document(name: name, contents: contents)
        }
        return updating(parsed: parsed)
    }

    /// This library with documents already parsed (nil: removed) put in place.
    func updating(parsed changes: [String: Document?]) -> PolicyLibrary {
        guard !changes.isEmpty else { return self }
        var next = self
        for (name, document) in changes {
            if let old = next.documents[name] { next.versionSum &-= Self.versionShare(name, old) }
            next.documents[name] = document
            if let document {
                next.versionSum &+= Self.versionShare(name, document)
                next.parsedDocuments += 1
            }
        }
        next.settle()
        return next
    }

    /// Parses documents on every core; `parse(i)` parses the i-th name.
    static func parseInParallel(_ names: [String], _ parse: @Sendable (Int) -> Document) -> [String: Document] {
        let results = UnsafeMutableBufferPointer<Document?>.allocate(capacity: names.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: names.count) { index in slots[index] = parse(index) }
        var documents: [String: Document] = [:]
        documents.reserveCapacity(names.count)
        for (index, name) in names.enumerated() { documents[name] = results[index] }
        return documents
    }

    /// Settles what spans documents and makes the set.
    private mutating func settle() {
        let sorted = documents.sorted { $0.key < $1.key }.map(\.value)
        let diagnostics = sorted.flatMap(\.diagnostics)
        var settling = CrossDocumentSettling()
        var resolvedAgain: [String: (domains: [String: TenantID?], rules: ResolvedRules)] = [:]
        let settled = settling.settle(sorted.compactMap(\.parsed)) { isolation, file, directory in
            let document = documents[file]
            if let own = document?.ownRules { return own }
            if let cached = document?.domainRules,
                cached.domains.allSatisfy({ directory.tenant(forDomain: $0.key) == $0.value })
            {
                return cached.rules
            }
            var domains: [String: TenantID?] = [:]
            let rules = ResolvedRules(isolation, file: file) { name in
                let tenant = directory.tenant(forDomain: name)
                domains[name] = .some(tenant)
                return tenant
            }
            resolvedAgain[file] = (domains, rules)
            return rules
        }
        for (file, resolution) in resolvedAgain { documents[file]?.domainRules = resolution }
        let everything = diagnostics + settling.diagnostics
        if everything.contains(where: { $0.severity == .error }) {
            outcome = .failure(PolicyValidationError(diagnostics: everything))
            return
        }
        outcome = .success(
            PolicyBundle(
                isolation: PolicySet(tenants: settled.tenants, directory: settled.directory),
                isolationSources: settled.isolationSources,
                crossTenantAccess: settled.crossTenantAccess,
                crossTenantAccessSources: settled.crossTenantAccessSources,
                warnings: everything,
                version: version
            )
        )
    }

    /// A document's share of the set's version: its name and content hash. The version is the sum of the shares, so
    /// that it does not depend on order and a change updates it by replacing one share; a full recomputation gives
    /// the same sum.
    static func versionShare(_ name: String, _ document: Document) -> UInt64 {
        var share = ContentHash()
        // The file's own name, not the path it was read by: `policies`, `./policies/` and an absolute path load the
        // same version.
        share.add((name as NSString).lastPathComponent)
        share.add(document.contentHash)
        return share.value
    }

    /// The version computed from every document, as a check of the one kept up to date.
    package var fullyRecomputedVersion: String {
        ContentHash.hex(documents.reduce(0) { $0 &+ Self.versionShare($1.key, $1.value) })
    }
}

extension ParsedPolicyFile.WrittenRule {
    var namesDomain: Bool {
        if case .domain = reference { return true }
        return false
    }
}
