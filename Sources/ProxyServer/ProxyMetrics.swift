import Audit
import ExchangePolicy
import Metrics
import Plumbing
import TenantPolicy

/// The proxy's counters and timers (SPEC 5 "Observable"), created once so the hot path only increments.
final class ProxyMetrics: Sendable {
    private let allowed = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "allowed")])
    private let blocked = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "blocked")])
    private let wouldBlock = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "would_block")])
    private let unenforced = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "unenforced")])
    private let errors = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "error")])
    private let blockedOutbound = Counter(
        label: "tenantgate_blocked_directions_total",
        dimensions: [("direction", "outbound")]
    )
    private let blockedInbound = Counter(
        label: "tenantgate_blocked_directions_total",
        dimensions: [("direction", "inbound")]
    )
    let upstreamErrors = Counter(label: "tenantgate_upstream_errors_total")
    /// Sessions closed because a new name's leaf would exceed the minting rate (`LeafContextCache`).
    let leafMintsRefused = Counter(label: "tenantgate_leaf_mints_refused_total")
    /// Their log lines, at most one every ten seconds.
    let leafMintRefusalLog = LogThrottle()
    let openConnections = Meter(label: "tenantgate_open_connections")
    let exchangeLatency = Timer(label: "tenantgate_exchange_duration_seconds")
    let auditWriteLatency = Timer(label: "tenantgate_audit_write_duration_seconds")

    /// Counts one judged resource request, audited or not (most allowed ones are not). Few series (the configured
    /// patterns times the decisions), each made once: the factory's lookup cost more than the decision.
    func countResourceRequest(_ count: ResourceCount) {
        let counter = resourceCounters.withLock { counters in
            if let known = counters[count] { return known }
            let made = Counter(
                label: "tenantgate_resource_requests_total",
                dimensions: [("host", count.hostPattern), ("decision", count.decision.rawValue)]
            )
            counters[count] = made
            return made
        }
        counter.increment()
    }
    private let resourceCounters = Locked([ResourceCount: Counter]())

    /// Counts one audited decision by its typed labels.
    func record(_ labels: DecisionLabels) {
        switch labels.decision {
        case .allowed: allowed.increment()
        case .blocked: blocked.increment()
        case .wouldBlock: wouldBlock.increment()
        case .unenforced: unenforced.increment()
        case .error: errors.increment()
        }
        if let host = labels.unenforcedHost {
            // The known gap, per STS (SPEC 2.3).
            Counter(label: "tenantgate_unenforced_exchanges_total", dimensions: [("host", host)]).increment()
        }
        for direction in labels.refusedDirections {
            switch direction {
            case .outbound: blockedOutbound.increment()
            case .inbound: blockedInbound.increment()
            }
        }
        if let setting = labels.refusingSetting {
            // Few distinct values (tenant isolation and Graph's setting names); the factory caches each.
            Counter(
                label: "tenantgate_refusals_by_setting_total",
                dimensions: [("setting", setting), ("decision", labels.decision.rawValue)]
            ).increment()
        }
    }
}
