/// One allowlist entry of a governed tenant's isolation policy (SPEC 2.1).
///
/// A rule's tenant is its identity: it can be re-pointed to other directions, never to another tenant.
package struct IsolationRule: Hashable, Sendable, CustomStringConvertible {
    /// The tenant the rule names, with any domain already resolved to its ID; `.any` for `*`.
    package enum Subject: Hashable, Sendable {
        case tenant(TenantID)
        case any
    }

    package let subject: Subject
    package var directions: DirectionSet
    /// The domain the administrator wrote, when the rule was written with one (kept for explanations).
    package let domain: String?

    package init(subject: Subject, directions: DirectionSet, domain: String? = nil) {
        self.subject = subject
        self.directions = directions
        self.domain = domain
    }

    /// `fabrikam.onmicrosoft.com (0da5…) both`, `* outbound`.
    package var description: String { "\(subjectDescription) \(directions)" }

    /// The tenant as written: `*`, the ID, or `domain (ID)`.
    package var subjectDescription: String {
        switch subject {
        case .any: "*"
        case .tenant(let id): domain.map { "\($0) (\(id))" } ?? id.description
        }
    }
}
