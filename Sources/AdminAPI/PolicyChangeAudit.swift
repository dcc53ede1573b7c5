import EntraAuth
import Audit
import Foundation
import TenantPolicy

/// The audit line of an admin change (issue 5.3): who, which tenant, which resource and operation, the policy before
/// and after, and the policy version now in force. Policies hold no secrets; the caller's token is never written.
/// The line has no `decision`, so the report over exchanges passes it by.
struct PolicyChangeAudit: Sendable {
    let log: AuditLog

    func record(
        principal: AdminPrincipal, tenant: TenantID, resource: String, operation: String, before: Any?, after: Any?,
        version: String
    ) async throws {
        var actor: [String: Any] = ["tenant": principal.tenant.description]
        if let id = principal.objectID { actor["object_id"] = id }
        if let name = principal.username ?? principal.displayName { actor["name"] = name }
        if let application = principal.applicationID { actor["application_id"] = application }
        let object: [String: Any] = [
            "time": Date().formatted(Date.ISO8601FormatStyle(timeZone: .gmt).time(includingFractionalSeconds: true)),
            "event": "policy_change", "actor": actor, "tenant": tenant.description, "resource": resource,
            "operation": operation, "before": before ?? NSNull(), "after": after ?? NSNull(),
            "policy_version": version, "correlation_id": UUID().uuidString.lowercased(),
        ]
        let line = Array((TenantFileRenderer.json(object, pretty: false) + "\n").utf8)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            log.record(line: line) { continuation.resume(with: $0) }
        }
    }
}
