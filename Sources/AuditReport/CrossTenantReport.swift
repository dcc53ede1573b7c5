import Foundation
import TenantPolicy

/// The cross-tenant isolation report (seed 000: "Admin runs the cross-tenant isolation reports to determine the
/// tenants that need to be exempt"): for each tenant, every other tenant seen inbound or outbound, and the
/// allowlist rules that would keep all observed traffic working once isolation is On.
package struct CrossTenantReport: Sendable {
    /// One direction of traffic between a tenant and another, as Power Platform's report names it.
    package enum ConnectionType: String, Sendable, Comparable {
        case inbound = "Inbound"
        case outbound = "Outbound"

        package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue > rhs.rawValue }
    }

    package struct Connection: Sendable {
        package let connectionType: ConnectionType
        package let tenantID: TenantID
        package let stats: PairStatistics
    }

    package struct TenantSection: Sendable {
        package let tenantID: TenantID
        package let connections: [Connection]
        /// Rules for this tenant's allowlist: the other tenant and `inbound`, `outbound` or `both`.
        package let suggestedRules: [(tenant: TenantID, directions: DirectionSet)]
    }

    package let source: String
    package let generatedAt: Date
    package let counts: LineCounts
    package let tenants: [TenantSection]
    /// Non-Entra STS passes (the known gap), by host.
    package let unenforced: [(host: String, stats: PairStatistics)]
    /// Every creator → sign-in pair seen, for the matrix.
    package let pairs: [TenantPair: PairStatistics]
}

/// A creator tenant and a sign-in tenant.
package struct TenantPair: Hashable, Sendable {
    package let creator: TenantID
    package let signIn: TenantID

    package init(creator: TenantID, signIn: TenantID) {
        self.creator = creator
        self.signIn = signIn
    }
}

/// What was seen for one pair (or one unenforced host).
package struct PairStatistics: Sendable {
    package static let maxClientIDs = 20

    package var count = 0
    package var firstSeen: String?
    package var lastSeen: String?
    package var decisions: [String: Int] = [:]
    /// Of `count`, the lines of requests judged on resource hosts (`resource_access`): tokens used, not issued.
    package var resourceRequests = 0
    package var clientIDs: [String] = []
    /// Exchanges whose client ID was not kept because the list was full (memory stays bounded).
    package var exchangesFromUnlistedClients = 0

    mutating func add(decision: String, time: String?, clientID: String?, onResourceHost: Bool = false) {
        count += 1
        if onResourceHost { resourceRequests += 1 }
        decisions[decision, default: 0] += 1
        if let time {
            // RFC 3339 UTC timestamps of one writer compare correctly as text.
            if firstSeen.map({ time < $0 }) ?? true { firstSeen = time }
            if lastSeen.map({ time > $0 }) ?? true { lastSeen = time }
        }
        if let clientID, !clientIDs.contains(clientID) {
            if clientIDs.count < Self.maxClientIDs {
                clientIDs.append(clientID)
            } else {
                exchangesFromUnlistedClients += 1
            }
        }
    }

    /// The worst outcome seen: blocked, then would_block, then allowed.
    package var worstDecision: String {
        if decisions["blocked", default: 0] > 0 { return "blocked" }
        if decisions["would_block", default: 0] > 0 { return "would_block" }
        return "allowed"
    }
}

/// How many lines were read, counted, and skipped (and why).
package struct LineCounts: Sendable, Equatable {
    package var read = 0
    package var crossTenant = 0
    package var sameTenant = 0
    package var unenforced = 0
    /// Decision lines without two tenants (errors, unknown sign-in tenant) or filtered out.
    package var other = 0
    package var malformed = 0

    package init(
        read: Int = 0,
        crossTenant: Int = 0,
        sameTenant: Int = 0,
        unenforced: Int = 0,
        other: Int = 0,
        malformed: Int = 0
    ) {
        self.read = read
        self.crossTenant = crossTenant
        self.sameTenant = sameTenant
        self.unenforced = unenforced
        self.other = other
        self.malformed = malformed
    }
}
