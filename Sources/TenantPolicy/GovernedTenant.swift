/// A tenant whose policy TenantGate holds (SPEC 1), with the names it is known by.
public struct GovernedTenant: Hashable, Sendable {
    public let id: TenantID
    public var displayName: String?
    /// Verified domains, lowercased.
    public var domains: [String]
    public var isolation: IsolationPolicy

    public init(id: TenantID, displayName: String? = nil, domains: [String] = [], isolation: IsolationPolicy) {
        self.id = id
        self.displayName = displayName
        self.domains = domains.map { $0.lowercased() }
        self.isolation = isolation
    }

    /// `Contoso (bb1b…)` or the bare ID.
    public var label: String { displayName.map { "\($0) (\(id))" } ?? id.description }
}
