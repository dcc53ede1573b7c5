import Audit
import CoreMetrics
import ExchangePolicy
import Logging
import NIOCore
import NetworkPolicy
import PolicyFiles
import PolicyService
import Synchronization
import TenantPolicy

/// The shared, thread-safe dependencies every connection's handlers use, injected once at start.
final class ProxyContext: Sendable {
    let configuration: ProxyConfiguration
    /// What a CONNECT becomes, taken from the configuration once.
    let interception: InterceptionRules
    let policies: PolicyStore
    let creators: CreatorResolver
    let dialer: UpstreamDialer
    /// Where Entra's token service answers, as far as this proxy knows.
    let entraAddresses: EntraAddresses
    let leafContexts: LeafContextCache
    let upstreamPools: PerEventLoop<UpstreamConnectionPool>
    let auditBatches: PerEventLoop<AuditBatch>
    let metrics: ProxyMetrics
    let logger: Logger
    /// Who may hold a client connection, and how many each may hold.
    let admission: ClientAdmission
    /// Bodies held in memory over every connection.
    let bodyBudget: BodyMemoryBudget
    /// Token exchanges sent upstream whose answer (or failure) has not been judged yet: what a stop waits for.
    let exchangesUnderWay = Atomic<Int>(0)

    init(
        configuration: ProxyConfiguration,
        policies: PolicyStore,
        creators: CreatorResolver,
        dialer: UpstreamDialer,
        entraAddresses: EntraAddresses,
        leafContexts: LeafContextCache,
        upstreamPools: PerEventLoop<UpstreamConnectionPool>,
        auditBatches: PerEventLoop<AuditBatch>,
        bodyBudget: BodyMemoryBudget,
        metrics: ProxyMetrics,
        logger: Logger
    ) {
        self.bodyBudget = bodyBudget
        self.configuration = configuration
        self.interception = configuration.interception
        self.policies = policies
        self.creators = creators
        self.dialer = dialer
        self.entraAddresses = entraAddresses
        self.leafContexts = leafContexts
        self.upstreamPools = upstreamPools
        self.auditBatches = auditBatches
        self.metrics = metrics
        self.logger = logger
        self.admission = ClientAdmission(
            allowed: configuration.allowedClients,
            maxConnections: configuration.maxClientConnections,
            maxPerClient: configuration.maxConnectionsPerClient
        )
    }

    /// Counts `event` and writes its line (grouped with the loop's others), then runs `then` on the loop with
    /// whether the line is written: no answer leaves before its audit line (SPEC 4).
    /// - Parameter client: whose connection the line is about (`client_address`), when it is known.
    func recordAudit(
        _ event: AuditEvent,
        client: IPAddress?,
        on eventLoop: any EventLoop,
        then: @escaping (Result<Void, any Error>) -> Void
    ) {
        var event = event
        event.clientAddress = client?.description
        let queued = NIODeadline.now()
        metrics.record(DecisionLabels(event))
        auditBatches.value(for: eventLoop).record(event) { result in
            self.metrics.auditWriteLatency.recordNanoseconds((NIODeadline.now() - queued).nanoseconds)
            if case .failure(let error) = result {
                self.logger.error("audit write failed; refusing the exchange", metadata: ["error": "\(error)"])
            }
            then(result)
        }
    }
}
