import Foundation
import PolicyFiles
import Synchronization
import TenantPolicy

/// Holds the policy snapshot in force. Readers take the current snapshot (one lock, one reference copy); a
/// reload validates fully first and then swaps, so a failed reload leaves the last good snapshot in force.
public final class PolicyStore: Sendable {
    /// Everything derived from one loaded bundle, built once per load.
    public struct Snapshot: Sendable {
        public let bundle: PolicyBundle
        public let decider: ExchangeDecider
        public let loadedAt: Date
    }

    private let state: Mutex<Snapshot>
    public let nonEntraSTS: NonEntraSTSMode

    public init(bundle: PolicyBundle, nonEntraSTS: NonEntraSTSMode) {
        self.nonEntraSTS = nonEntraSTS
        self.state = Mutex(Self.snapshot(bundle, nonEntraSTS))
    }

    public func current() -> Snapshot { state.withLock { $0 } }

    /// Puts a validated bundle in force for the very next exchange.
    public func replace(with bundle: PolicyBundle) {
        let next = Self.snapshot(bundle, nonEntraSTS)
        state.withLock { $0 = next }
    }

    /// Loads and validates `directory`; swaps only when it is valid.
    @discardableResult
    public func reload(from directory: String) -> Result<PolicyBundle, PolicyValidationError> {
        let result = PolicyDirectoryLoader.load(directory: directory)
        if case .success(let bundle) = result { replace(with: bundle) }
        return result
    }

    private static func snapshot(_ bundle: PolicyBundle, _ mode: NonEntraSTSMode) -> Snapshot {
        Snapshot(
            bundle: bundle,
            decider: ExchangeDecider(
                policies: bundle.isolation, crossTenantAccess: bundle.crossTenantAccess, nonEntraSTS: mode),
            loadedAt: Date())
    }
}
