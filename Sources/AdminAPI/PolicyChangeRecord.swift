import EntraAuth
import Foundation
import Plumbing
import TenantPolicy

/// The audit line of an admin change (`event: policy_change`): who, which tenant, which resource and operation, the
/// policy before and after, and the policy version it puts in force. Written before the change takes effect
/// (`PolicyWriter`). Policies hold no secrets, and the caller's token is never written. The line has no `decision`,
/// so the report over exchanges passes it by.
struct PolicyChangeRecord: Encodable, Sendable {
    let time: Date
    let actor: AdminPrincipal
    let tenant: TenantID
    let resource: String
    let operation: String
    /// Null in the line when the tenant had no such policy before, or has none after.
    let before: PolicyDocument?
    let after: PolicyDocument?
    let policyVersion: String
    /// Also the withdrawal's, should the change not be applied.
    let correlationID: UUID

    /// The `policy_change_failed` line for this change, written when it was announced and then not applied.
    func withdrawal(reason: String, time: Date) -> PolicyChangeWithdrawal {
        PolicyChangeWithdrawal(
            time: time,
            tenant: tenant,
            reason: "the change was not applied: \(reason)",
            correlationID: correlationID
        )
    }

    /// The JSON line, newline included; summarized when its documents make it too long to ship (`PolicyChangeSummary`).
    func jsonLine() throws -> [UInt8] {
        try PolicyChangeSummary.bounded(AdminJSON.line(self))
    }

    private enum CodingKeys: String, CodingKey {
        case time, event, actor, tenant, resource, operation, before, after
        case policyVersion = "policy_version"
        case correlationID = "correlation_id"
    }

    private struct Actor: Encodable {
        let tenant: TenantID
        let objectID: String?
        /// The sign-in name, else the display name.
        let name: String?
        let applicationID: String?

        enum CodingKeys: String, CodingKey {
            case tenant
            case objectID = "object_id"
            case name
            case applicationID = "application_id"
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(RFC3339.string(from: time, milliseconds: true), forKey: .time)
        try container.encode("policy_change", forKey: .event)
        let actor = Actor(
            tenant: actor.tenant,
            objectID: actor.objectID,
            name: actor.username ?? actor.displayName,
            applicationID: actor.applicationID
        )
        try container.encode(actor, forKey: .actor)
        try container.encode(tenant, forKey: .tenant)
        try container.encode(resource, forKey: .resource)
        try container.encode(operation, forKey: .operation)
        // `encode`, not `encodeIfPresent`: an absent policy is an explicit null.
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
        try container.encode(policyVersion, forKey: .policyVersion)
        try container.encode(correlationID.uuidString.lowercased(), forKey: .correlationID)
    }
}
