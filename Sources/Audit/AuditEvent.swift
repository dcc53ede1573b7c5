import Foundation
import Plumbing
import TenantPolicy

/// The decision an audit line records (SPEC 4).
package enum AuditDecision: String, Sendable, Equatable, CaseIterable {
    case allowed
    case blocked
    case wouldBlock = "would_block"
    case unenforced
    case error

    /// A policy refused the exchange, enforced or only recorded (report-only).
    package var isRefusal: Bool { self == .blocked || self == .wouldBlock }
}

/// One audit line: one evaluated token exchange, with exactly SPEC 4's fields and optional extras after them.
///
/// Holds no secrets by construction: only tenants, host, path without query, client ID and sentences.
package struct AuditEvent: Sendable, Equatable {
    package var time: Date
    package var decision: AuditDecision
    package var directions: [Direction]
    package var creatorTenant: TenantID?
    package var signInTenant: TenantID?
    package var host: String
    /// The request path without its query string.
    package var path: String
    package var clientID: String?
    package var reason: String
    package var rule: String?
    package var correlationID: UUID
    /// The Entra error code answered, for refusals.
    package var errorCode: Int?
    /// A guest's home tenant.
    package var homeTenant: TenantID?
    /// The setting that decided (`tenantIsolation`, `b2bCollaborationInbound`, …), when one was judged.
    package var setting: String?
    /// What kind of line, when not a token exchange's: `resource_access` for a request on a resource host.
    package var event: String?
    /// The request's method, on `resource_access` lines.
    package var method: String?
    /// The client whose connection the line is about: the connection's peer, or the client a trusted balancer's
    /// PROXY protocol header named (who made an attempt, behind a balancer too).
    package var clientAddress: String?

    package init(
        time: Date,
        decision: AuditDecision,
        directions: [Direction],
        creatorTenant: TenantID?,
        signInTenant: TenantID?,
        host: String,
        path: String,
        clientID: String?,
        reason: String,
        rule: String?,
        correlationID: UUID
    ) {
        self.time = time
        self.decision = decision
        self.directions = directions
        self.creatorTenant = creatorTenant
        self.signInTenant = signInTenant
        self.host = host
        // Cut on the byte: `prefix(while:)` over Characters walked grapheme clusters on every exchange.
        self.path = path.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(path[..<$0]) } ?? path
        self.clientID = clientID
        self.reason = reason
        self.rule = rule
        self.correlationID = correlationID
    }

    /// The JSON line, newline included.
    package func jsonLine() -> [UInt8] {
        var line: [UInt8] = []
        appendJSONLine(to: &line)
        return line
    }

    /// Appends the JSON line, newline included, to `bytes` (a batch of lines). Hand-written, and without a String
    /// for the time, tenants or correlation ID: it is on every exchange's path.
    package func appendJSONLine(to bytes: inout [UInt8]) {
        var out = JSONLineWriter(continuing: bytes)
        bytes = []  // the writer now holds the only reference, so appending does not copy the batch
        out.begin()
        out.field("time") { RFC3339.append(time, milliseconds: true, to: &$0) }
        out.field("decision", string: decision.rawValue)
        out.field("directions", strings: directions.lazy.map(\.rawValue))
        out.field("creator_tenant", tenant: creatorTenant)
        out.field("sign_in_tenant", tenant: signInTenant)
        out.field("host", string: host)
        out.field("path", string: path)
        out.field("client_id", string: clientID)
        out.field("reason", string: reason)
        out.field("rule", string: rule)
        out.field("correlation_id") { correlationID.appendLowercased(to: &$0) }
        if let errorCode { out.field("error_code", number: errorCode) }
        if let homeTenant { out.field("home_tenant", tenant: homeTenant) }
        if let setting { out.field("setting", string: setting) }
        if let event { out.field("event", string: event) }
        if let method { out.field("method", string: method) }
        if let clientAddress { out.field("client_address", string: clientAddress) }
        bytes = out.end()
    }
}

extension JSONLineWriter {
    fileprivate mutating func field(_ name: StaticString, tenant: TenantID?) {
        if let tenant {
            field(name) { tenant.appendCanonicalForm(to: &$0) }
        } else {
            field(name, string: nil)
        }
    }
}

extension UUID {
    /// The lowercase hyphenated form (`uuidString` is upper-case and would need a second String to lower it).
    fileprivate func appendLowercased(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { raw in
            for (index, byte) in raw.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(JSONLineWriter.hexDigit(byte >> 4))
                bytes.append(JSONLineWriter.hexDigit(byte & 0xF))
            }
        }
    }
}
