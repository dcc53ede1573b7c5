import Foundation
import Logging
import Metrics
import Plumbing
import ServiceLifecycle

/// Ships the audit file to every sink, at least once and resumable (`--ship`, or `tenantgate ship` as a sidecar).
///
/// Each sink has its own reader and position: a batch of whole lines is read from the acknowledged position,
/// delivered, and only once the sink has acknowledged it is the new position saved (`ShipPositionFile`). A sink
/// that fails gets the same batch again after a backoff (doubling from 0.5 s to 10 s, or its longer `Retry-After`), so
/// an outage or a kill -9 loses nothing and sends again at most one batch; each line carries its
/// `correlation_id` for a sink to drop what it has seen. Backlog and lag are Prometheus gauges per sink.
package final class Shipper: Service, Sendable {
    package struct Settings: Sendable {
        package var auditLogPath: String
        package var stateDirectory: String
        /// `--ship-ca`: PEM roots trusted beside the system's for HTTPS sinks.
        package var extraCAFiles: [String] = []
        /// How long a reader that has shipped all there was waits before it reads again.
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
    private let positionFiles: [String: ShipPositionFile]
    private let logger: Logger
    private let statuses: Locked<[String: SinkStatus]>
    private let sharedRecords: SharedAuditRecords

    package init(settings: Settings, sinks: [any ShipSink], logger: Logger) throws {
        self.settings = settings
        self.sinks = sinks
        let names = sinks.map(\.name)
        if let shared = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw SinkError("two sinks would keep one position (\(shared)): name each destination once")
        }
        let store = try ShipPositionStore(directory: settings.stateDirectory)
        self.positionFiles = try Dictionary(
            uniqueKeysWithValues: sinks.map { ($0.name, try store.file(sink: $0.name)) }
        )
        self.logger = logger
        self.statuses = Locked(Dictionary(uniqueKeysWithValues: sinks.map { ($0.name, SinkStatus()) }))
        self.sharedRecords = SharedAuditRecords(readers: sinks.count)
    }

    /// Each sink's standing.
    package var status: [String: SinkStatus] { statuses.withLock { $0 } }

    /// Ships until the graceful shutdown, every sink's work on `ShippingThread` (below the event loops' priority).
    package func run() async throws {
        await withTaskExecutorPreference(ShippingThread.shared) {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    for sink in self.sinks {
                        group.addTask { await self.ship(to: sink) }
                    }
                }
            }
            for sink in sinks { await sink.shutdown() }
        }
    }

    private func ship(to sink: any ShipSink) async {
        guard let positionFile = positionFiles[sink.name] else { return }
        var saved = positionFile.load()
        let follower = AuditFollower(path: settings.auditLogPath, position: saved)
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
            // Reading began in a file the saved position does not name (the first, or the next after a rotation):
            // saved now, so a restart before the next acknowledgement resumes in it, not at the path's file.
            if let start = follower.startPosition,
                saved.map({ ($0.device, $0.inode) != (start.device, start.inode) }) ?? true
            {
                try? positionFile.save(start)
                saved = start
            }
            guard !batch.lines.isEmpty else {
                lag.record(0)
                follower.commit(batch.end)
                try? await Task.sleep(for: settings.pollInterval)
                continue
            }
            let records = sharedRecords.records(for: batch)
            let progress = Progress(lag: lag, backlog: backlog, follower: follower)
            guard await deliver(records, to: sink, progress: progress, failures: failures) else { return }
            do {
                try positionFile.save(batch.end)
                saved = batch.end
            } catch {
                logger.error(
                    "cannot save the shipping position",
                    metadata: ["sink": "\(sink.name)", "error": "\(error)"]
                )
            }
            follower.commit(batch.end)
            shipped.increment(by: records.count)
            // The batch took all there was: let the next gather (Fluent Bit's flush interval), so a steady stream
            // ships in batches rather than a delivery and a position sync for every few lines.
            if !batch.morePending { try? await Task.sleep(for: settings.pollInterval) }
        }
    }

    /// How long to wait before sending a failed batch again: the backoff, or the sink's `Retry-After` when that is
    /// longer. Never less: `Retry-After: 0` or a date past had the same batch sent 2,000 times a second (review 20).
    static func wait(after error: any Error, backoff: Duration) -> Duration {
        max((error as? ShipRetryAfter)?.wait ?? .zero, backoff)
    }

    /// A sink's gauges, recorded at each attempt: while a batch keeps failing, lines go on piling up behind it
    /// (review 32: the backlog gauge stood at the failing batch's first read, 14 KB, with 20 MB behind it).
    private struct Progress {
        let lag: Gauge
        let backlog: Gauge
        let follower: AuditFollower

        func record(oldest: Date) {
            lag.record(max(0, Date().timeIntervalSince(oldest)))
            backlog.record(follower.backlogBytes())
        }
    }

    /// Delivers until the sink acknowledges; false once the shipper is stopping.
    private func deliver(
        _ records: [AuditRecord],
        to sink: any ShipSink,
        progress: Progress,
        failures: Counter
    ) async -> Bool {
        var backoff: Duration = .milliseconds(500)
        while !Task.isCancelled {
            progress.record(oldest: records[0].time)
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
                let wait = Self.wait(after: error, backoff: backoff)
                if failed == 1 || failed % 10 == 0 {
                    logger.warning(
                        "shipping failed; the batch will be sent again",
                        metadata: ["sink": "\(sink.name)", "error": "\(error)", "failures": "\(failed)"]
                    )
                }
                try? await Task.sleep(for: wait)
                backoff = min(backoff * 2, .seconds(10))
            }
        }
        return false
    }
}
