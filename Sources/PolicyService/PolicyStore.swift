import ExchangePolicy
import Foundation
import Metrics
import Plumbing
import PolicyFiles
import TenantPolicy

/// Holds the policy snapshot in force. Readers take the current snapshot (one lock, one reference copy); a
/// reload validates fully first and then swaps, so a failed reload leaves the last good snapshot in force.
package final class PolicyStore: Sendable {
    /// Everything derived from one loaded bundle, built once per load. A class: every exchange takes the current
    /// one, and copying a reference is one retain where the struct's fields were dozens.
    package final class Snapshot: Sendable {
        package let bundle: PolicyBundle
        package let decider: ExchangeDecider
        package let loadedAt: Date

        init(bundle: PolicyBundle, decider: ExchangeDecider, loadedAt: Date) {
            self.bundle = bundle
            self.decider = decider
            self.loadedAt = loadedAt
        }
    }

    private let state: Locked<Snapshot>
    /// Held by every change (a reload of the directory, an admin write) from reading to swapping, so changes are
    /// serialised: a reload that read the directory before an admin write can never swap in after it and roll it
    /// back. Exchanges never take it.
    private let changes = Locked(())
    private let reloadsApplied = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "applied")])
    private let reloadsRefused = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "refused")])
    package let nonEntraSTS: NonEntraSTSMode
    package let mode: EnforcementMode
    package let unreadableResourceToken: UnreadableResourceToken

    package init(
        bundle: PolicyBundle,
        nonEntraSTS: NonEntraSTSMode,
        mode: EnforcementMode = .enforce,
        unreadableResourceToken: UnreadableResourceToken = .block
    ) {
        self.nonEntraSTS = nonEntraSTS
        self.mode = mode
        self.unreadableResourceToken = unreadableResourceToken
        self.state = Locked(Self.snapshot(bundle, nonEntraSTS, mode, unreadableResourceToken))
        Self.recordVersion(bundle.version, replacing: nil)
    }

    package func current() -> Snapshot { state.withLock { $0 } }

    /// Puts a validated bundle in force for the very next exchange.
    package func replace(with bundle: PolicyBundle) {
        let next = Self.snapshot(bundle, nonEntraSTS, mode, unreadableResourceToken)
        let previous = state.withLock { current -> String in
            defer { current = next }
            return current.bundle.version
        }
        if previous != bundle.version { Self.recordVersion(bundle.version, replacing: previous) }
    }

    /// Puts `library`'s set in force when it makes one; otherwise the last good set stays. Either way counted in
    /// `tenantgate_policy_reloads_total{outcome}`, whichever follower (the directory's, the store's) brought it.
    package func apply(_ library: PolicyLibrary) -> Result<PolicyBundle, PolicyValidationError> {
        switch library.outcome {
        case .success(let bundle):
            replace(with: bundle)
            reloadsApplied.increment()
        case .failure:
            reloadsRefused.increment()
        }
        return library.outcome
    }

    /// `tenantgate_policy_info{version}` is 1 for the version in force, the only one kept: the Prometheus "info"
    /// pattern, so dashboards can show which policy decided. Each replaced version's series went on at 0, one more
    /// for every change, for as long as the process ran (review 49 F3).
    private static func recordVersion(_ version: String, replacing previous: String?) {
        if let previous { Gauge(label: "tenantgate_policy_info", dimensions: [("version", previous)]).destroy() }
        Gauge(label: "tenantgate_policy_info", dimensions: [("version", version)]).record(1)
        Gauge(label: "tenantgate_policy_loaded_timestamp_seconds").record(Date().timeIntervalSince1970)
    }

    /// Runs one change (read, validate, write, swap) while no other change runs.
    package func exclusively<T>(_ change: () throws -> T) rethrows -> T {
        try changes.withLock { _ in try change() }
    }

    private static func snapshot(
        _ bundle: PolicyBundle,
        _ nonEntraSTS: NonEntraSTSMode,
        _ mode: EnforcementMode,
        _ unreadableResourceToken: UnreadableResourceToken
    ) -> Snapshot {
        Snapshot(
            bundle: bundle,
            decider: ExchangeDecider(
                policies: bundle.isolation,
                crossTenantAccess: bundle.crossTenantAccess,
                nonEntraSTS: nonEntraSTS,
                mode: mode,
                unreadableResourceToken: unreadableResourceToken
            ),
            loadedAt: Date()
        )
    }
}
