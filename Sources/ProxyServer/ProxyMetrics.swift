import Metrics

/// The proxy's counters and timers (SPEC 5 "Observable"), created once so the hot path only increments.
final class ProxyMetrics: Sendable {
    private let allowed = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "allowed")])
    private let blocked = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "blocked")])
    private let wouldBlock = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "would_block")])
    private let unenforced = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "unenforced")])
    private let errors = Counter(label: "tenantgate_decisions_total", dimensions: [("decision", "error")])
    private let blockedOutbound = Counter(label: "tenantgate_blocked_directions_total", dimensions: [("direction", "outbound")])
    private let blockedInbound = Counter(label: "tenantgate_blocked_directions_total", dimensions: [("direction", "inbound")])
    let upstreamErrors = Counter(label: "tenantgate_upstream_errors_total")
    let openConnections = Meter(label: "tenantgate_open_connections")
    let exchangeLatency = Timer(label: "tenantgate_exchange_duration_seconds")
    let auditWriteLatency = Timer(label: "tenantgate_audit_write_duration_seconds")

    func record(decision: String, blockedDirections: [String], setting: String?) {
        switch decision {
        case "allowed": allowed.increment()
        case "blocked": blocked.increment()
        case "would_block": wouldBlock.increment()
        case "unenforced": unenforced.increment()
        default: errors.increment()
        }
        for direction in blockedDirections {
            if direction == "outbound" { blockedOutbound.increment() } else { blockedInbound.increment() }
        }
        if let setting, decision == "blocked" || decision == "would_block" {
            // Few distinct values (tenant isolation and Graph's setting names); the factory caches each.
            Counter(label: "tenantgate_refusals_by_setting_total", dimensions: [("setting", setting), ("decision", decision)])
                .increment()
        }
    }

    /// Non-Entra STS passes by host, so the known gap is visible per STS (SPEC 2.3).
    func recordUnenforced(host: String) {
        Counter(label: "tenantgate_unenforced_exchanges_total", dimensions: [("host", host)]).increment()
    }
}
