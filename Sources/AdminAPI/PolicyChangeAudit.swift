import Audit
import EntraAuth
import Foundation
import Plumbing
import TenantPolicy

/// The audit line of an admin change: who, which tenant, which resource and operation, the policy before
/// and after, and the policy version it puts in force. Written before the change takes effect (`PolicyWriter`).
/// Policies hold no secrets; the caller's token is never written. The line has no `decision`, so the report over
/// exchanges passes it by.
enum PolicyChangeAudit {
    /// One rendered line and what is needed to withdraw it.
    struct Line {
        let bytes: [UInt8]
        let correlationID: String
        let tenant: TenantID

        /// A `policy_change_failed` line for a change whose line was written but which could not be applied.
        func withdrawal(reason: String) -> [UInt8] {
            let object: [String: Any] = [
                "time": PolicyChangeAudit.now(), "event": "policy_change_failed", "tenant": tenant.description,
                "reason": "the change was not applied: \(reason)", "correlation_id": correlationID,
            ]
            return Array((TenantFileRenderer.json(object, pretty: false) + "\n").utf8)
        }
    }

    static func line(
        principal: AdminPrincipal,
        tenant: TenantID,
        resource: String,
        operation: String,
        before: Any?,
        after: Any?,
        version: String
    ) -> Line {
        var actor: [String: Any] = ["tenant": principal.tenant.description]
        if let id = principal.objectID { actor["object_id"] = id }
        if let name = principal.username ?? principal.displayName { actor["name"] = name }
        if let application = principal.applicationID { actor["application_id"] = application }
        let correlationID = UUID().uuidString.lowercased()
        let object: [String: Any] = [
            "time": now(), "event": "policy_change", "actor": actor, "tenant": tenant.description, "resource": resource,
            "operation": operation, "before": before ?? NSNull(), "after": after ?? NSNull(),
            "policy_version": version, "correlation_id": correlationID,
        ]
        return Line(
            bytes: Array((TenantFileRenderer.json(object, pretty: false) + "\n").utf8),
            correlationID: correlationID,
            tenant: tenant
        )
    }

    fileprivate static func now() -> String {
        RFC3339.string(from: Date(), milliseconds: true)
    }
}
