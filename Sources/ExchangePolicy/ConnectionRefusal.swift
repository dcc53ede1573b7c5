import Audit
import Foundation
import Plumbing
import TenantPolicy

/// A connection refused before any token exchange: by the client, destination or TLS name policy, or for a maker
/// token that did not verify. Audited like an exchange so the refusal is visible in the report's "other" count.
package struct ConnectionRefusal: Sendable, Equatable {
    /// The policy that refused.
    package enum Setting: String, Sendable {
        case clientPolicy
        case destinationPolicy
        case tlsServerName
        case creatorToken
        case plainHTTP
    }

    package let host: String
    package let creator: TenantID?
    package let setting: Setting
    package let reason: String
    package let decision: AuditDecision

    package init(
        host: String,
        creator: TenantID?,
        setting: Setting,
        reason: String,
        decision: AuditDecision = .blocked
    ) {
        self.host = host
        self.creator = creator
        self.setting = setting
        self.reason = reason
        self.decision = decision
    }

    /// The line of a refusal that no exchange followed: no path, no client ID, no sign-in tenant. The correlation
    /// ID is the one its answer carries.
    package func auditEvent(correlationID: UUID, at time: Date) -> AuditEvent {
        let record = ExchangeRecord(host: host, path: "", clientID: nil, correlationID: correlationID)
        var event = record.event(decision: decision, creator: creator, signIn: nil, reason: reason, at: time)
        event.setting = setting.rawValue
        return event
    }
}
