import Audit
import Logging
import NIOCore

/// The shared, thread-safe dependencies every connection's handlers use, injected once at start.
final class ProxyContext: Sendable {
    let configuration: ProxyConfiguration
    let policies: PolicyStore
    let leafContexts: LeafContextCache
    let upstreamPools: PerEventLoop<UpstreamConnectionPool>
    let auditBatches: PerEventLoop<AuditBatch>
    let audit: AuditLog
    let metrics: ProxyMetrics
    let logger: Logger

    init(
        configuration: ProxyConfiguration, policies: PolicyStore, leafContexts: LeafContextCache,
        upstreamPools: PerEventLoop<UpstreamConnectionPool>,
        auditBatches: PerEventLoop<AuditBatch>, audit: AuditLog, metrics: ProxyMetrics, logger: Logger
    ) {
        self.configuration = configuration
        self.policies = policies
        self.leafContexts = leafContexts
        self.upstreamPools = upstreamPools
        self.auditBatches = auditBatches
        self.audit = audit
        self.metrics = metrics
        self.logger = logger
    }
}
