import Audit
import Foundation
import Plumbing
import TenantPolicy

/// The parts of an exchange's audit line known before the decision.
package struct ExchangeRecord: Sendable, Equatable {
    package let host: String
    package let path: String
    package let clientID: String?
    package let correlationID: UUID

    package init(host: String, path: String, clientID: String?, correlationID: UUID) {
        self.host = host
        self.path = path
        self.clientID = clientID
        self.correlationID = correlationID
    }

    package func event(
        decision: AuditDecision,
        creator: TenantID?,
        signIn: TenantID?,
        reason: String,
        at time: Date
    ) -> AuditEvent {
        AuditEvent(
            time: time,
            decision: decision,
            directions: [],
            creatorTenant: creator,
            signInTenant: signIn,
            host: host,
            path: path,
            clientID: clientID,
            reason: reason,
            rule: nil,
            correlationID: correlationID
        )
    }
}
