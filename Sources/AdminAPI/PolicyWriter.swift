import Audit
import CrossTenantAccess
import Foundation
import Plumbing
import PolicyFiles
import PolicyService
import TenantPolicy

/// Applies admin edits: one at a time (and never beside a reload of the directory), checked against the caller's
/// `If-Match`, validated as a whole directory, audited (the `policy_change` line written, and synced, before anything
/// changes), written atomically to the policies directory, then put in force for the very next token exchange.
final class PolicyWriter: Sendable {
    /// Which part of a tenant's policies an edit changes; it picks the file and the ETag.
    enum Part: Sendable {
        case isolation
        case crossTenantAccess
    }

    enum Failure: Error {
        /// `If-Match` names another version; the current ETag is given.
        case preconditionFailed(current: String?)
        /// The edit itself is wrong (unknown partner, a rule's tenant changed, a bad Graph body…).
        case rejected(status: Int, code: String, message: String)
        /// The resulting directory fails validation: nothing was written or changed.
        case invalid([PolicyDiagnostic])
        /// The file could not be written; nothing changed.
        case storage(String)
        /// The audit line could not be written: nothing changed (no change goes unaudited).
        case auditUnavailable(String)
    }

    struct Outcome: Sendable {
        let before: TenantPolicyState
        let after: TenantPolicyState
        let bundle: PolicyBundle
        let file: String
    }

    let directory: String
    let store: PolicyStore
    let audit: AuditLog

    init(directory: String, store: PolicyStore, audit: AuditLog) {
        self.directory = directory
        self.store = store
        self.audit = audit
    }

    /// The ETag of a part of a tenant's policies as the bundle holds them; nil when the tenant has none.
    static func etag(_ part: Part, of state: TenantPolicyState, directory: TenantDirectory) -> String? {
        let text: String
        switch part {
        case .isolation:
            guard let isolation = state.isolation else { return nil }
            text = TenantFileRenderer.json(TenantFileRenderer.powerPlatformObject(isolation, directory: directory))
        case .crossTenantAccess:
            guard let settings = state.crossTenantAccess, let data = try? settings.encoded(pretty: false) else {
                return nil
            }
            text = String(decoding: data, as: UTF8.self)
        }
        return "\"\(ContentHash.of(text))\""
    }

    /// Edits `tenant`'s `part` with `change`, which may throw `Failure.rejected`; `auditLine` renders the
    /// `policy_change` line of the validated outcome, written before the file and the policy in force change.
    func edit(
        _ tenant: TenantID,
        _ part: Part,
        ifMatch: String?,
        change: (inout TenantPolicyState) throws -> Void,
        auditLine: (Outcome) -> PolicyChangeAudit.Line
    ) -> Result<Outcome, Failure> {
        store.exclusively {
            let bundle = store.current().bundle
            let before = TenantPolicyState(tenant: tenant, bundle: bundle)
            if let ifMatch {
                let current = Self.etag(part, of: before, directory: bundle.isolation.directory)
                let matches =
                    ifMatch == "*"
                    ? current != nil
                    : ifMatch.split(separator: ",").contains {
                        $0.trimmingCharacters(in: .whitespaces) == current
                    }
                if !matches { return .failure(.preconditionFailed(current: current)) }
            }
            var after = before
            do {
                try change(&after)
            } catch let failure as Failure {
                return .failure(failure)
            } catch {
                return .failure(.rejected(status: 400, code: "BadRequest", message: "\(error)"))
            }
            let (path, format) = target(for: tenant, part, in: bundle)
            let text = TenantFileRenderer.render(after, as: format, directory: bundle.isolation.directory)

            var files: [PolicyDirectoryLoader.SourceFile]
            switch PolicyDirectoryLoader.readSourceFiles(directory: directory) {
            case .failure(let error): return .failure(.invalid(error.diagnostics))
            case .success(let read): files = read.filter { $0.name != path }
            }
            files.append(.init(name: path, contents: text))
            files.sort { $0.name < $1.name }
            let next: PolicyBundle
            switch PolicyDirectoryLoader.load(files: files) {
            case .failure(let error): return .failure(.invalid(error.errors))
            case .success(let loaded): next = loaded
            }
            let outcome = Outcome(
                before: before,
                after: TenantPolicyState(tenant: tenant, bundle: next),
                bundle: next,
                file: path
            )
            let line = auditLine(outcome)
            if case .failure(let error) = audit.append(line.bytes, lineCount: 1) {
                return .failure(.auditUnavailable("\(error)"))
            }
            do {
                try DurableFile.replace(path, contents: Array(text.utf8))
            } catch {
                // The change was announced and did not happen: say so under the same correlation ID.
                _ = audit.append(line.withdrawal(reason: "\(error)"), lineCount: 1)
                return .failure(.storage("\(error)"))
            }
            store.replace(with: next)
            return .success(outcome)
        }
    }

    /// The file an edit goes to, in the format that file already has; a new file for a tenant that has none.
    private func target(
        for tenant: TenantID,
        _ part: Part,
        in bundle: PolicyBundle
    ) -> (String, TenantFileRenderer.Format) {
        let isolationFile = bundle.isolationSources[tenant]
        let settingsFile = bundle.crossTenantAccessSources[tenant]
        func isYAML(_ path: String) -> Bool { path.hasSuffix(".yaml") || path.hasSuffix(".yml") }
        switch part {
        case .isolation:
            if let isolationFile {
                return isYAML(isolationFile)
                    ? (isolationFile, .projectYAML(includesCrossTenantAccess: settingsFile == isolationFile))
                    : (isolationFile, .powerPlatformJSON)
            }
            if let settingsFile, isYAML(settingsFile) {
                return (settingsFile, .projectYAML(includesCrossTenantAccess: true))
            }
            return (path("\(tenant).json"), .powerPlatformJSON)
        case .crossTenantAccess:
            if let settingsFile {
                return isYAML(settingsFile)
                    ? (settingsFile, .projectYAML(includesCrossTenantAccess: true)) : (settingsFile, .graphJSON)
            }
            if let isolationFile, isYAML(isolationFile) {
                return (isolationFile, .projectYAML(includesCrossTenantAccess: true))
            }
            return (path("\(tenant)-cross-tenant-access.json"), .graphJSON)
        }
    }

    private func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
}
