import Audit
import Foundation
import Plumbing
import TenantPolicy
import TokenInspection

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
            path: Self.pathWithoutTokens(path),
            clientID: clientID,
            reason: reason,
            rule: nil,
            correlationID: correlationID
        )
    }

    /// The path as an audit line may hold it: each segment that may carry a JSON Web Token in any spelling
    /// (`EmbeddedTokens.mightHold`: looser than what the judge reads as one) written `[token]`. A resource may read a
    /// token from its path, but an audit line never holds one (SPEC 4; review 53 F1: a Graph path's token went whole
    /// to every sink; review 55 F4: `x<JWT>`, `<JWT>.json`, padded and double-encoded ones still did). The query
    /// string is cut by `AuditEvent`. Searched once; split only when a token may be there.
    static func pathWithoutTokens(_ path: String) -> String {
        let queryStart = path.utf8.firstIndex(of: UInt8(ascii: "?")) ?? path.endIndex
        let withoutQuery = path[..<queryStart]
        guard EmbeddedTokens.mightHold(withoutQuery) else { return path }
        return
            withoutQuery
            .split(separator: "/", omittingEmptySubsequences: false)
            .map { EmbeddedTokens.mightHold($0) ? "[token]" : String($0) }
            .joined(separator: "/")
    }
}
