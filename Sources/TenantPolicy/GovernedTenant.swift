/// A tenant whose policy TenantGate holds (SPEC 1), with the names it is known by.
package struct GovernedTenant: Hashable, Sendable {
    package let id: TenantID
    package var displayName: String?
    /// Verified domains, lowercased.
    package var domains: [String]
    package var isolation: IsolationPolicy

    package init(id: TenantID, displayName: String? = nil, domains: [String] = [], isolation: IsolationPolicy) {
        self.id = id
        self.displayName = displayName
        self.domains = domains.map { $0.lowercased() }
        self.isolation = isolation
    }

    /// `Contoso (bb1b…)` or the bare ID.
    package var label: String { displayName.map { "\($0) (\(id))" } ?? id.description }
}
