import Foundation
import Logging
import Metrics
import PolicyFiles
import ServiceLifecycle

/// Reloads the policies when a file of the policies directory changes ("watched"), by polling names,
/// sizes and modification times: portable, and a second's delay is far inside the 100 ms-to-next-exchange budget
/// that matters once a change is seen. An invalid set is refused and counted; the last good one stays in force.
package final class PolicyDirectoryWatcher: Service, Sendable {
    private let directory: String
    private let store: PolicyStore
    private let interval: Duration
    private let logger: Logger
    private let succeeded = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "applied")])
    private let refused = Counter(label: "tenantgate_policy_reloads_total", dimensions: [("outcome", "refused")])
    /// Taken when the watcher is made (right after the policies were loaded), so an edit made before `run()`
    /// starts is still seen.
    private let initialFingerprint: [String: String]

    package init(directory: String, store: PolicyStore, interval: Duration = .seconds(1), logger: Logger) {
        self.directory = directory
        self.store = store
        self.interval = interval
        self.logger = logger
        self.initialFingerprint = Self.fingerprint(directory)
    }

    package func run() async throws {
        var last = initialFingerprint
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: interval)
            let current = Self.fingerprint(directory)
            guard current != last else { continue }
            last = current
            reload()
        }
    }

    /// Validates and applies the directory now; used by the watcher and by SIGHUP.
    package func reload() {
        switch store.reload(from: directory) {
        case .success(let bundle):
            succeeded.increment()
            logger.notice("policies reloaded", metadata: ["version": "\(bundle.version)"])
        case .failure(let error):
            refused.increment()
            logger.error(
                "policy reload refused; the last good policies stay in force",
                metadata: ["errors": "\(error.diagnostics.map(\.description).joined(separator: "; "))"]
            )
        }
    }

    /// Names, sizes and modification times of the policy files, and the files their names lead to: a file may be
    /// a symbolic link, as in a Kubernetes ConfigMap volume (`contoso.yaml -> ..data/contoso.yaml`), where an update
    /// re-points `..data` at a new directory and changes nothing about the links themselves.
    private static func fingerprint(_ directory: String) -> [String: String] {
        let manager = FileManager.default
        var result: [String: String] = [:]
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        where PolicyDirectoryLoader.isPolicyFileName(name) {
            let target = URL(fileURLWithPath: (directory as NSString).appendingPathComponent(name))
                .resolvingSymlinksInPath().path
            let attributes = try? manager.attributesOfItem(atPath: target)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            result[name] = "\(target)|\(size)@\(modified)"
        }
        return result
    }
}
