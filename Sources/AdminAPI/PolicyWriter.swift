import Audit
import CrossTenantAccess
import EntraAuth
import Foundation
import Plumbing
import PolicyFiles
import PolicyService
import TenantPolicy

/// Applies admin edits: one at a time (and never beside a reload; in a fleet, never beside another instance's edit),
/// checked against the caller's `If-Match` on the documents as stored, validated as a whole set, audited (the
/// `policy_change` line written, and synced, before anything changes), written to the policy source (a file
/// atomically, or a row with its audit row in one transaction), then put in force for the very next token exchange.
final class PolicyWriter: Sendable {
    /// Which part of a tenant's policies an edit changes; it picks the file and the ETag.
    enum Part: Sendable {
        case isolation
        case crossTenantAccess

        /// The resource the API serves the part as, which its `policy_change` lines name.
        var resource: String {
            switch self {
            case .isolation: "tenantIsolationPolicy"
            case .crossTenantAccess: "crossTenantAccessPolicy"
            }
        }
    }

    enum Failure: Error {
        /// `If-Match` names another version; the current ETag is given.
        case preconditionFailed(current: String?)
        /// The edit itself is wrong (unknown partner, a rule's tenant changed, a bad Graph body…).
        case rejected(status: Int, code: String, message: String)
        /// The resulting directory fails validation: nothing was written or changed. The diagnostics are those of
        /// the file the change writes, named without the directory; `elsewhere` counts the errors of other files,
        /// which are other tenants' and the operator's business, and are not shown (their text quotes the files).
        case invalid([PolicyDiagnostic], elsewhere: Int)

        /// `error`'s diagnostics split between `file` (the one the change writes; nil when none is known yet) and
        /// the rest.
        static func invalid(_ error: PolicyValidationError, changing file: String?) -> Failure {
            let own = error.errors.filter { $0.file == file }.map {
                PolicyDiagnostic(
                    $0.severity,
                    file: ($0.file as NSString).lastPathComponent,
                    field: $0.field,
                    line: $0.line,
                    message: $0.message
                )
            }
            return .invalid(own, elsewhere: error.errors.count - own.count)
        }
        /// The file or row could not be written; nothing changed.
        case storage(String)
        /// The shared policy store cannot be reached: nothing changed, try again (503).
        case storeUnavailable(String)
        /// The change was sent and its commit not confirmed: it may have been made (503, read before retrying).
        case storeUnconfirmed(String)
        /// The audit line could not be written: nothing changed (no change goes unaudited).
        case auditUnavailable(String)
    }

    struct Outcome: Sendable {
        let before: TenantPolicyState
        let after: TenantPolicyState
        let bundle: PolicyBundle
        let file: String
    }

    let source: any PolicySource
    let store: PolicyStore
    let audit: AuditLog

    init(source: any PolicySource, store: PolicyStore, audit: AuditLog) {
        self.source = source
        self.store = store
        self.audit = audit
    }

    /// The ETag of a part of a tenant's policies as the bundle holds them; nil when the tenant has none.
    static func etag(_ part: Part, of state: TenantPolicyState, directory: TenantDirectory) -> String? {
        let text: String
        switch part {
        case .isolation:
            guard let isolation = state.isolation,
                let data = try? AdminJSON.encode(
                    PowerPlatformIsolationDocument(isolation, directory: directory),
                    pretty: true
                )
            else { return nil }
            text = String(decoding: data, as: UTF8.self)
        case .crossTenantAccess:
            guard let settings = state.crossTenantAccess, let data = try? settings.encoded(pretty: false) else {
                return nil
            }
            text = String(decoding: data, as: UTF8.self)
        }
        return "\"\(ContentHash.of(text))\""
    }

    /// Edits `tenant`'s `part` with `change`, which may throw `Failure.rejected`, for `actor`; the `policy_change`
    /// line of the validated outcome (`operation` on the part's resource) is written before the file and the policy in
    /// force change.
    func edit(
        _ tenant: TenantID,
        _ part: Part,
        ifMatch: String?,
        actor: AdminPrincipal,
        operation: String,
        change: (inout TenantPolicyState) throws -> Void
    ) async -> Result<Outcome, Failure> {
        var written: PolicyChangeRecord?
        var outcome: Outcome?
        do {
            _ = try await source.change { library in
                // Judged against the documents as stored now, not the set in force here: in a fleet another instance
                // may have changed them a moment ago, and its change must meet this one's If-Match.
                let stored = try library.outcome.get()
                let before = TenantPolicyState(tenant: tenant, bundle: stored)
                if let ifMatch {
                    let current = Self.etag(part, of: before, directory: stored.isolation.directory)
                    let matches =
                        ifMatch == "*"
                        ? current != nil
                        : ifMatch.split(separator: ",").contains {
                            $0.trimmingCharacters(in: .whitespaces) == current
                        }
                    if !matches { throw Failure.preconditionFailed(current: current) }
                }
                var after = before
                try change(&after)
                let (name, format) = target(for: tenant, part, in: stored, taken: Set(library.names))
                let text = try TenantFileRenderer.render(after, as: format, directory: stored.isolation.directory)
                // Only the written document is parsed again; every other tenant's rules are shared with the set in force.
                let nextLibrary = library.updating([name: text])
                let next: PolicyBundle
                switch nextLibrary.outcome {
                case .failure(let error): throw Failure.invalid(error, changing: name)
                case .success(let loaded): next = loaded
                }
                let planned = Outcome(
                    before: before,
                    after: TenantPolicyState(tenant: tenant, bundle: next),
                    bundle: next,
                    file: name
                )
                let record = PolicyChangeRecord(
                    time: Date(),
                    actor: actor,
                    tenant: tenant,
                    resource: part.resource,
                    operation: operation,
                    before: PolicyDocument(part, of: planned.before, directory: next.isolation.directory),
                    after: PolicyDocument(part, of: planned.after, directory: next.isolation.directory),
                    policyVersion: next.version,
                    correlationID: UUID()
                )
                let line = try record.jsonLine()
                if case .failure(let error) = audit.append(line, lineCount: 1) {
                    throw Failure.auditUnavailable("\(error)")
                }
                written = record
                outcome = planned
                return PolicyDocumentChange(
                    name: name,
                    contents: text,
                    library: nextLibrary,
                    bundle: next,
                    auditLine: line
                )
            }
        } catch let failure as Failure {
            return .failure(failure)
        } catch let error as PolicyValidationError {
            // The documents as stored are invalid already (an operator's hand edit): none of it is this caller's.
            return .failure(.invalid(error, changing: nil))
        } catch let error as PolicySourceError {
            if let written { withdraw(written, reason: "\(error)") }
            switch error {
            case .unavailable: return .failure(.storeUnavailable(error.description))
            case .failed(let reason): return .failure(.storage(reason))
            case .unconfirmed: return .failure(.storeUnconfirmed(error.description))
            }
        } catch {
            // Not the client's doing: the edits' refusals are Failures, so anything else failed on our side.
            if let written { withdraw(written, reason: "\(error)") }
            return .failure(.storage("\(error)"))
        }
        guard let outcome else { return .failure(.storage("the policy store stored nothing")) }
        return .success(outcome)
    }

    /// The change was announced and did not happen: says so under the same correlation ID.
    private func withdraw(_ change: PolicyChangeRecord, reason: String) {
        guard let line = try? change.withdrawal(reason: reason, time: Date()).jsonLine() else { return }
        _ = audit.append(line, lineCount: 1)
    }

    /// The file an edit goes to, in the format that file already has; a new file for a tenant that has none, under a
    /// name no document in `taken` holds.
    private func target(
        for tenant: TenantID,
        _ part: Part,
        in bundle: PolicyBundle,
        taken: Set<String>
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
            return (freeName("\(tenant)", taken: taken), .powerPlatformJSON)
        case .crossTenantAccess:
            if let settingsFile {
                return isYAML(settingsFile)
                    ? (settingsFile, .projectYAML(includesCrossTenantAccess: true)) : (settingsFile, .graphJSON)
            }
            if let isolationFile, isYAML(isolationFile) {
                return (isolationFile, .projectYAML(includesCrossTenantAccess: true))
            }
            return (freeName("\(tenant)-cross-tenant-access", taken: taken), .graphJSON)
        }
    }

    /// `base.json`, or `base-2.json`, `base-3.json`… when another document holds the name: an operator may have named
    /// any file after a tenant (its Graph settings, even another tenant's policy), and a new document must not replace
    /// what the edit does not change.
    private func freeName(_ base: String, taken: Set<String>) -> String {
        var name = source.documentName("\(base).json")
        var suffix = 2
        while taken.contains(name) {
            name = source.documentName("\(base)-\(suffix).json")
            suffix += 1
        }
        return name
    }
}
