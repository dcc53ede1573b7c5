import TenantPolicy
import TokenInspection

/// Tenant Restrictions v2 header injection (ENTRA-FACTS 3): on the login hosts Microsoft lists (and the global cloud's
/// other STS names),
/// `sec-Restrict-Tenant-Access-Policy: <tenant>:<policy id>` replaces whatever the client sent, so that Entra
/// enforces the tenant's `tenantRestrictions` on its side too. The TRv1 headers conflict with it and are dropped.
package struct TenantRestrictionsV2: Sendable, Equatable {
    /// The hosts Microsoft documents for TRv2 injection.
    package static let hosts: Set<String> = [
        "login.live.com", "login.microsoft.com", "login.microsoftonline.com", "login.windows.net",
    ]
    package static let headerName = "sec-Restrict-Tenant-Access-Policy"
    /// Client headers removed before the injected one is added (TRv1's two and any TRv2 the client sent).
    package static let replacedHeaders = [headerName, "Restrict-Access-To-Tenants", "Restrict-Access-Context"]

    package let tenant: TenantID
    /// The `id` of the tenant's default cross-tenant access configuration (Graph), a GUID.
    package let policyID: String

    /// `TENANT:POLICY-ID`, both GUIDs.
    package init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let tenant = TenantID(parts[0]), let policy = TenantID(parts[1]) else { return nil }
        self.tenant = tenant
        // Sent as Microsoft documents it, `<TenantId>:<policyGuid>`, however it was written (review 54: braces went
        // upstream as given).
        policyID = policy.description
    }

    package var headerValue: String { "\(tenant):\(policyID)" }

    /// The hosts Microsoft documents, and every other name of the global cloud's Entra STS that the proxy intercepts
    /// (review 28: on `loginex.microsoftonline.com` and the other front ends the client's own headers went to Entra).
    package func applies(to host: String) -> Bool {
        guard let name = HostName.canonical(host) else { return false }
        return Self.hosts.contains(name) || STSHosts.entraCloud(forCanonicalHost: name) == .global
    }
}
