import Foundation
import Plumbing
import TenantPolicy

/// The audit line (`event: policy_change_failed`) that withdraws a `policy_change` line under its correlation ID: the
/// change was announced, and then could not be stored.
struct PolicyChangeWithdrawal: Encodable, Sendable {
    let time: Date
    let tenant: TenantID
    let reason: String
    let correlationID: UUID

    /// The JSON line, newline included.
    func jsonLine() throws -> [UInt8] {
        try AdminJSON.line(self)
    }

    private enum CodingKeys: String, CodingKey {
        case time, event, tenant, reason
        case correlationID = "correlation_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(RFC3339.string(from: time, milliseconds: true), forKey: .time)
        try container.encode("policy_change_failed", forKey: .event)
        try container.encode(tenant, forKey: .tenant)
        try container.encode(reason, forKey: .reason)
        try container.encode(correlationID.uuidString.lowercased(), forKey: .correlationID)
    }
}
