import CrossTenantAccess
import TenantPolicy

/// A part of a tenant's policies as its API shows it, for the `policy_change` line's `before` and `after`: Power
/// Platform's isolation document, or Graph's cross-tenant access policy.
enum PolicyDocument: Encodable, Sendable {
    case isolation(PowerPlatformIsolationDocument)
    case crossTenantAccess(CrossTenantAccessPolicy)

    /// `part` of `state`; nil when the tenant has none.
    init?(_ part: PolicyWriter.Part, of state: TenantPolicyState, directory: TenantDirectory) {
        switch part {
        case .isolation:
            guard let isolation = state.isolation else { return nil }
            self = .isolation(PowerPlatformIsolationDocument(isolation, directory: directory))
        case .crossTenantAccess:
            guard let settings = state.crossTenantAccess else { return nil }
            self = .crossTenantAccess(settings)
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .isolation(let document): try document.encode(to: encoder)
        case .crossTenantAccess(let policy): try policy.encode(to: encoder)
        }
    }
}
