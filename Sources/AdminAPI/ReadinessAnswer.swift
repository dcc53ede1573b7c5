import Foundation
import Plumbing
import PolicyFiles
import PolicyService
import TenantPolicy

/// `GET /readyz`: ready, with the policy in force and how its source is doing. Still ready with the store unreachable:
/// decisions never wait on it, the last good set is enforced, and the body says so.
struct ReadinessAnswer: Encodable {
    struct Store: Encodable {
        /// `directory` or `postgres`.
        let kind: String
        let reachable: Bool
        /// What is wrong, not the database's own error text (host names, user, server messages): that is in the log,
        /// and the probe is answered to anyone who can reach the listener.
        let problem: String?
        let unreachableSince: String?
        let lastContact: String?

        enum CodingKeys: String, CodingKey {
            case kind, reachable, problem
            case unreachableSince = "unreachable_since"
            case lastContact = "last_contact"
        }
    }

    /// A shipping sink (`--ship`): failing after three attempts in a row. Still ready: the audit file is the source
    /// of truth and keeps every line until the sink takes it.
    struct Sink: Encodable {
        let sink: String
        let failing: Bool
        let consecutiveFailures: Int
        let problem: String?

        enum CodingKeys: String, CodingKey {
            case sink, failing, problem
            case consecutiveFailures = "consecutive_failures"
        }
    }

    let status: String
    let policyVersion: String
    let policyLoadedAt: String
    let governedTenants: Int
    let crossTenantAccessTenants: Int
    let policyStore: Store
    let shipping: [Sink]?

    enum CodingKeys: String, CodingKey {
        case status
        case policyVersion = "policy_version"
        case policyLoadedAt = "policy_loaded_at"
        case governedTenants = "governed_tenants"
        case crossTenantAccessTenants = "cross_tenant_access_tenants"
        case policyStore = "policy_store"
        case shipping
    }

    /// Attempts in a row after which a sink counts as failing.
    static let failingAfter = 3

    init(_ snapshot: PolicyStore.Snapshot, source: PolicySourceStatus, shipping: [ShippingSinkStatus] = []) {
        let sinks = shipping.map { sink in
            let failing = sink.consecutiveFailures >= Self.failingAfter
            return Sink(
                sink: sink.sink,
                failing: failing,
                consecutiveFailures: sink.consecutiveFailures,
                problem: failing ? "the sink keeps refusing or cannot be reached; the proxy's log has the error" : nil
            )
        }
        self.shipping = sinks.isEmpty ? nil : sinks
        if !source.reachable {
            status = "ready, enforcing the last good policy"
        } else if sinks.contains(where: \.failing) {
            status = "ready, a shipping sink keeps failing"
        } else {
            status = "ready"
        }
        policyVersion = snapshot.bundle.version
        policyLoadedAt = RFC3339.string(from: snapshot.loadedAt, milliseconds: true)
        governedTenants = snapshot.bundle.isolation.tenants.count
        crossTenantAccessTenants = snapshot.bundle.crossTenantAccess.count
        policyStore = Store(
            kind: source.kind,
            reachable: source.reachable,
            problem: source.problem.map { _ in "the policy store cannot be reached; the proxy's log has the error" },
            unreachableSince: source.unreachableSince.map { RFC3339.string(from: $0, milliseconds: true) },
            lastContact: source.lastContact.map { RFC3339.string(from: $0, milliseconds: true) }
        )
    }
}

/// How a shipping sink is doing, for `/readyz`.
package struct ShippingSinkStatus: Sendable, Equatable {
    package let sink: String
    package let consecutiveFailures: Int

    package init(sink: String, consecutiveFailures: Int) {
        self.sink = sink
        self.consecutiveFailures = consecutiveFailures
    }
}
