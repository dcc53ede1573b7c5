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
    /// One document as parsed, with what can be settled from it alone. A class: a change copies the library's table
    /// of documents, which then costs a reference per document, not the document.
    final class Document: Sendable {
        let name: String
        /// The content's 64-bit hash (`contentHash(_:)`): equal content is never parsed twice.
        let contentHash: UInt64
        /// Nil when the document could not be read or parsed at all (its diagnostics say why).
        let parsed: ParsedPolicyFile?
        /// Reading and parsing problems, errors and warnings.
        let diagnostics: [PolicyDiagnostic]
        /// The isolation policy resolved from this document alone, when none of its rules names a domain, and the
        /// problems found resolving it; the written rules are dropped then (a million of them would stay in memory).
        let ownRules: ResolvedRules?

        /// The governed tenant's isolation as written (its rules dropped when `ownRules` holds them), if any.
        var isolation: ParsedPolicyFile.WrittenIsolation? { parsed?.isolation }
        /// Whether the document names tenants, resource hosts or organisations for the directory (`directory.yaml`).
        let carriesDirectory: Bool
        /// Whether the document holds a tenant's cross-tenant access settings.
        let carriesCrossTenantAccess: Bool

        init(name: String, contents: String, contentHash: UInt64? = nil) {
            self.name = name
            self.contentHash = contentHash ?? PolicyLibrary.contentHash(contents)
            let baseName = (name as NSString).lastPathComponent
            let isDirectory = baseName == "directory.yaml" || baseName == "directory.yml"
            let (found, diagnostics) = PolicyFileParser.parse(file: name, contents: contents, isDirectory: isDirectory)
            self.diagnostics = diagnostics
            if let isolation = found?.isolation, !isolation.rules.contains(where: \.namesDomain) {
                ownRules = ResolvedRules(isolation, file: name) { _ in nil }
                var kept = found
                kept?.isolation?.rules = []
                parsed = kept
            } else {
                ownRules = nil
                parsed = found
            }
            carriesDirectory =
                found.map {
                    !$0.directoryEntries.isEmpty || !$0.resourceHosts.isEmpty || !$0.azureDevOpsOrganizations.isEmpty
                }
                ?? false
            carriesCrossTenantAccess = found?.crossTenantAccess != nil
        }

        /// A document that could not be read.
        init(name: String, unreadable diagnostic: PolicyDiagnostic) {
            self.name = name
            carriesDirectory = false
            carriesCrossTenantAccess = false
            contentHash = 0
            parsed = nil
            diagnostics = [diagnostic]
            ownRules = nil
        }
    }

    /// The last resolution of a document whose rules name domains, and what each domain resolved to then: kept
    /// while the directory still resolves them the same way.
    private struct DomainResolution: Sendable {
        let domains: [String: TenantID?]
        let rules: ResolvedRules
    }

    private var documents: [String: Document]
    /// The documents' names in order: cross-document rules go by it ("the first file governs").
    private var sortedNames: [String]
    private var domainResolutions: [String: DomainResolution] = [:]
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
        sortedNames = documents.keys.sorted()
        parsedDocuments = documents.count
        versionSum = Self.versionSum(of: documents)
        outcome = .failure(PolicyValidationError(diagnostics: []))
        settle()
    }

    /// The version of the documents as they are (valid or not): their set's version when they make one.
    package var version: String { ContentHash.hex(versionSum) }

    /// The names of the documents, sorted.
    package var names: [String] { sortedNames }

    /// Whether the library holds `name` with content of this hash (`contentHash(_:)`).
    func holds(_ name: String, contentHash: UInt64) -> Bool {
        documents[name]?.contentHash == contentHash
    }

    static func contentHash(_ contents: String) -> UInt64 {
        var hash = ContentHash()
        hash.addWords(of: contents)
        return hash.value
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
            let hash = Self.contentHash(contents)
            guard documents[name]?.contentHash != hash else { continue }
            parsed[name] = Document(name: name, contents: contents, contentHash: hash)
        }
        return updating(parsed: parsed)
    }

    /// This library with documents already parsed (nil: removed) put in place.
    func updating(parsed changes: [String: Document?]) -> PolicyLibrary {
        guard !changes.isEmpty else { return self }
        var next = self
        for (name, document) in changes {
            let slot = next.sortedNames.insertionPoint(of: name)
            let listed = slot < next.sortedNames.count && next.sortedNames[slot] == name
            if let old = next.documents[name] { next.versionSum &-= Self.versionShare(name, old) }
            next.documents[name] = document
            next.domainResolutions[name] = nil
            if let document {
                next.versionSum &+= Self.versionShare(name, document)
                next.parsedDocuments += 1
                if !listed { next.sortedNames.insert(name, at: slot) }
            } else if listed {
                next.sortedNames.remove(at: slot)
            }
        }
        next.settle()
        return next
    }

    /// Parses documents on every core; `parse(i)` parses the i-th name.
    static func parseInParallel(_ names: [String], _ parse: @Sendable (Int) -> Document) -> [String: Document] {
        let results = UnsafeMutableBufferPointer<Document?>.allocate(capacity: names.count)
        results.initialize(repeating: nil)
        defer {
            // The slots hold references: released before the memory goes, or every first load's documents leak.
            _ = results.deinitialize()
            results.deallocate()
        }
        nonisolated(unsafe) let slots = results
        DispatchQueue.concurrentPerform(iterations: names.count) { index in slots[index] = parse(index) }
        var documents: [String: Document] = [:]
        documents.reserveCapacity(names.count)
        for (index, name) in names.enumerated() { documents[name] = results[index] }
        return documents
    }

    /// Settles what spans documents and makes the set.
    private mutating func settle() {
        let sorted = sortedNames.compactMap { documents[$0] }
        let diagnostics = sorted.flatMap(\.diagnostics)
        var settling = CrossDocumentSettling()
        var resolvedAgain: [String: DomainResolution] = [:]
        let settled = settling.settle(sorted) { isolation, file, directory in
            if let own = documents[file]?.ownRules { return own }
            if let cached = domainResolutions[file],
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
            resolvedAgain[file] = DomainResolution(domains: domains, rules: rules)
            return rules
        }
        domainResolutions.merge(resolvedAgain) { _, new in new }
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

    private static func versionSum(of documents: [String: Document]) -> UInt64 {
        documents.reduce(0) { $0 &+ versionShare($1.key, $1.value) }
    }

    /// The version computed from every document, as a check of the one kept up to date.
    package var fullyRecomputedVersion: String { ContentHash.hex(Self.versionSum(of: documents)) }
}

extension ParsedPolicyFile.WrittenRule {
    var namesDomain: Bool {
        if case .domain = reference { return true }
        return false
    }
}
