import Foundation
import TenantPolicy

/// The cross-tenant isolation report (seed 000: "Admin runs the cross-tenant isolation reports to determine the
/// tenants that need to be exempt"): for each tenant, every other tenant seen inbound or outbound, and the
/// allowlist rules that would keep all observed traffic working once isolation is On.
public struct CrossTenantReport: Sendable {
    /// One direction of traffic between a tenant and another, as Power Platform's report names it.
    public enum ConnectionType: String, Sendable, Comparable {
        case inbound = "Inbound"
        case outbound = "Outbound"

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue > rhs.rawValue }
    }

    public struct Connection: Sendable {
        public let connectionType: ConnectionType
        public let tenantID: TenantID
        public let stats: PairStatistics
    }

    public struct TenantSection: Sendable {
        public let tenantID: TenantID
        public let connections: [Connection]
        /// Rules for this tenant's allowlist: the other tenant and `inbound`, `outbound` or `both`.
        public let suggestedRules: [(tenant: TenantID, directions: DirectionSet)]
    }

    public let source: String
    public let generatedAt: Date
    public let counts: LineCounts
    public let tenants: [TenantSection]
    /// Non-Entra STS passes (the known gap), by host.
    public let unenforced: [(host: String, stats: PairStatistics)]
    /// Every creator → sign-in pair seen, for the matrix.
    public let pairs: [TenantPair: PairStatistics]
}

/// A creator tenant and a sign-in tenant.
public struct TenantPair: Hashable, Sendable {
    public let creator: TenantID
    public let signIn: TenantID
}

/// What was seen for one pair (or one unenforced host).
public struct PairStatistics: Sendable {
    public static let maxClientIDs = 20

    public var count = 0
    public var firstSeen: String?
    public var lastSeen: String?
    public var decisions: [String: Int] = [:]
    public var clientIDs: [String] = []
    /// Exchanges whose client ID was not kept because the list was full (memory stays bounded).
    public var exchangesFromUnlistedClients = 0

    mutating func add(decision: String, time: String?, clientID: String?) {
        count += 1
        decisions[decision, default: 0] += 1
        if let time {
            // RFC 3339 UTC timestamps of one writer compare correctly as text.
            if firstSeen.map({ time < $0 }) ?? true { firstSeen = time }
            if lastSeen.map({ time > $0 }) ?? true { lastSeen = time }
        }
        if let clientID, !clientIDs.contains(clientID) {
            if clientIDs.count < Self.maxClientIDs { clientIDs.append(clientID) } else { exchangesFromUnlistedClients += 1 }
        }
    }

    /// The worst outcome seen: blocked, then would_block, then allowed.
    public var worstDecision: String {
        if decisions["blocked", default: 0] > 0 { return "blocked" }
        if decisions["would_block", default: 0] > 0 { return "would_block" }
        return "allowed"
    }
}

/// How many lines were read, counted, and skipped (and why).
public struct LineCounts: Sendable, Equatable {
    public var read = 0
    public var crossTenant = 0
    public var sameTenant = 0
    public var unenforced = 0
    /// Decision lines without two tenants (errors, unknown sign-in tenant) or filtered out.
    public var other = 0
    public var malformed = 0

    public init(read: Int = 0, crossTenant: Int = 0, sameTenant: Int = 0, unenforced: Int = 0, other: Int = 0, malformed: Int = 0) {
        self.read = read
        self.crossTenant = crossTenant
        self.sameTenant = sameTenant
        self.unenforced = unenforced
        self.other = other
        self.malformed = malformed
    }
}
