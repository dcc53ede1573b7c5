import Foundation
import Logging
import Metrics
import Plumbing
import ServiceLifecycle

/// Ships the audit file to every sink, at least once and resumable (`--ship`, or `tenantgate ship` as a sidecar).
///
/// Each sink has its own reader and position: a batch of whole lines is read from the acknowledged position,
/// delivered, and only once the sink has acknowledged it is the new position saved (`ShipPositionStore`). A sink
/// that fails gets the same batch again after a backoff (doubling from 0.5 s to 10 s, or its `Retry-After`), so
/// an outage or a kill -9 loses nothing and sends again at most one batch; each line carries its
/// `correlation_id` for a sink to drop what it has seen. Backlog and lag are Prometheus gauges per sink.
package final class Shipper: Service, Sendable {
    package struct Settings: Sendable {
        package var auditLogPath: String
        package var stateDirectory: String
        /// `--ship-ca`: PEM roots trusted beside the system's for HTTPS sinks.
        package var extraCAFiles: [String] = []
        /// How often an idle reader looks for new lines.
        package var pollInterval: Duration = .milliseconds(100)

        package init(auditLogPath: String, stateDirectory: String) {
            self.auditLogPath = auditLogPath
            self.stateDirectory = stateDirectory
        }
    }

    /// One sink's standing, for `/readyz` and the logs.
    package struct SinkStatus: Sendable, Equatable {
        package var consecutiveFailures = 0
        package var lastError: String?
    }

    private let settings: Settings
    private let sinks: [any ShipSink]
    private let store: ShipPositionStore
    private let logger: Logger
    private let statuses: Locked<[String: SinkStatus]>

    package init(settings: Settings, sinks: [any ShipSink], logger: Logger) throws {
        self.settings = settings
        self.sinks = sinks
        self.store = try ShipPositionStore(directory: settings.stateDirectory)
        self.logger = logger
        self.statuses = Locked(Dictionary(uniqueKeysWithValues: sinks.map { ($0.name, SinkStatus()) }))
    }

    /// Each sink's standing.
    package var status: [String: SinkStatus] { statuses.withLock { $0 } }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for sink in self.sinks {
                    group.addTask { await self.ship(to: sink) }
                }
            }
        }
        for sink in sinks { await sink.shutdown() }
    }

    private func ship(to sink: any ShipSink) async {
        let follower = AuditFollower(path: settings.auditLogPath, position: store.load(sink: sink.name))
        let dimensions = [("sink", sink.name)]
        let backlog = Gauge(label: "tenantgate_ship_backlog_bytes", dimensions: dimensions)
        let lag = Gauge(label: "tenantgate_ship_lag_seconds", dimensions: dimensions)
        let shipped = Counter(label: "tenantgate_shipped_lines_total", dimensions: dimensions)
        let failures = Counter(label: "tenantgate_ship_failures_total", dimensions: dimensions)
        while !Task.isCancelled {
            let batch: AuditFollower.Batch
            do {
                batch = try follower.read(maxLines: sink.batchLimits.lines, maxBytes: sink.batchLimits.bytes)
            } catch {
                logger.error("cannot read the audit file to ship", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            backlog.record(follower.backlogBytes())
            guard !batch.lines.isEmpty else {
                lag.record(0)
                follower.commit(batch.end)
                try? await Task.sleep(for: settings.pollInterval)
                continue
            }
            let records = batch.lines.map(AuditRecord.init(line:))
            guard await deliver(records, to: sink, lag: lag, failures: failures) else { return }
            do {
                try store.save(batch.end, sink: sink.name)
            } catch {
                logger.error(
                    "cannot save the shipping position",
                    metadata: ["sink": "\(sink.name)", "error": "\(error)"]
                )
            }
            follower.commit(batch.end)
            shipped.increment(by: records.count)
        }
    }

    /// Delivers until the sink acknowledges; false once the shipper is stopping.
    private func deliver(
        _ records: [AuditRecord],
        to sink: any ShipSink,
        lag: Gauge,
        failures: Counter
    ) async -> Bool {
        var backoff = 0.5
        while !Task.isCancelled {
            lag.record(max(0, Date().timeIntervalSince(records[0].time)))
            do {
                try await sink.deliver(records)
                statuses.withLock { $0[sink.name] = SinkStatus() }
                return true
            } catch {
                failures.increment()
                let failed = statuses.withLock { statuses in
                    statuses[sink.name, default: SinkStatus()].consecutiveFailures += 1
                    statuses[sink.name]?.lastError = "\(error)"
                    return statuses[sink.name]?.consecutiveFailures ?? 1
                }
                let wait = (error as? ShipRetryAfter)?.seconds ?? backoff
                if failed == 1 || failed % 10 == 0 {
                    logger.warning(
                        "shipping failed; the batch will be sent again",
                        metadata: ["sink": "\(sink.name)", "error": "\(error)", "failures": "\(failed)"]
                    )
                }
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                backoff = min(backoff * 2, 10)
            }
        }
        return false
    }
}
