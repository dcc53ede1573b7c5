import AdminAPI
import AdminConsole
import Audit
import CertificateAuthority
import Dispatch
import EntraAuth
import ExchangePolicy
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NetworkPolicy
import PolicyDatabase
import PolicyFiles
import PolicyService
import Prometheus
import ProxyServer
import ServiceLifecycle
import Shipping
import TenantPolicy
import UnixSignals

/// Everything `serve` runs, built in one place from `ServeSettings`: policies, CA, audit log, event loops, the
/// proxy, the directory watcher, the admin listener and the signals. `serve` and the end-to-end tests build it the
/// same way, so the tests exercise the wiring users run.
package final class Application: Sendable {
    package let settings: ServeSettings
    package let policies: PolicyStore
    package let audit: AuditLog
    package let proxy: ProxyServer
    /// Keeps the policy in force current: the directory watcher, or the policy store's follower.
    package let follower: any PolicyFollower
    /// The policy store's connection pool, run from `build` on (it is read before the services start).
    private let database: Task<Void, Never>?
    private let serviceGroup: ServiceGroup
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let nameLookups: NameLookups
    private let logger: Logger

    /// A setup problem, said in one line per problem (exit 2).
    package struct SetupError: Error, CustomStringConvertible {
        package let lines: [String]
        package var description: String { lines.joined(separator: "\n") }
        package init(_ lines: String...) { self.lines = lines }
        package init(lines: [String]) { self.lines = lines }
    }

    /// - Parameters:
    ///   - onProxyListening / onAdminListening: the bound addresses, once each listener is ready.
    ///   - gracefulShutdownSignals: SIGTERM and SIGINT for `serve`; none in tests, which stop it themselves.
    package static func build(
        settings: ServeSettings,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        onProxyListening: @escaping @Sendable (SocketAddress) -> Void,
        onAdminListening: @escaping @Sendable (SocketAddress) -> Void = { _ in },
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]
    ) async throws(SetupError) -> Application {
        let origin = try await PolicyOrigin.open(settings: settings, logger: logger)
        let bundle = origin.bundle
        let settings = try settings.resolvingTenantNames(in: bundle.isolation.directory)
        for warning in bundle.warnings { logger.warning("\(warning)") }
        for warning in settings.warnings { logger.warning("\(warning)") }

        let authority: CertificateAuthority
        do {
            let (loaded, created) = try CertificateAuthority.loadOrCreate(
                certificatePath: settings.caCertificatePath,
                keyPath: settings.caKeyPath,
                now: Date()
            )
            authority = loaded
            if created {
                logger.notice(
                    "created a new CA; clients must trust it",
                    metadata: ["certificate": "\(settings.caCertificatePath)"]
                )
            }
        } catch {
            origin.close()
            throw SetupError("\(error)")
        }

        let audit: AuditLog
        do {
            audit = try AuditLog(path: settings.auditLogPath, sync: settings.auditSync)
        } catch {
            origin.close()
            throw SetupError("\(error)")
        }
        if let note = audit.journalNote { logger.notice("\(note)") }
        // Read at each scrape: a journal write that fails moves the log to fdatasync while the proxy runs.
        let journalGauge =
            settings.auditSync == .always
            ? registry.makeGauge(
                name: "tenantgate_audit_journal",
                help: "1 while audit lines are made durable through the journal, 0 while each group is fdatasynced"
            ) : nil
        let policies = PolicyStore(
            bundle: bundle,
            nonEntraSTS: settings.proxy.nonEntraSTS,
            mode: settings.proxy.mode,
            unreadableResourceToken: settings.proxy.unreadableResourceToken
        )
        let group = MultiThreadedEventLoopGroup(numberOfThreads: settings.eventLoops)
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let nameLookups = NameLookups(deadline: .seconds(settings.proxy.connectTimeoutSeconds))
        func failed(_ lines: String...) async -> SetupError {
            origin.close()
            audit.close()
            await nameLookups.shutdown()
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            return SetupError(lines: lines)
        }

        let proxy: ProxyServer
        do {
            var creatorTrust = settings.creatorTrust
            creatorTrust.reportKeyFetchFailure = { error in
                logger.error(
                    "maker token JWKS fetch failed; the last good keys stay in use",
                    metadata: ["error": "\(error)"]
                )
            }
            proxy = try ProxyServer(
                configuration: settings.proxy,
                policies: policies,
                authority: authority,
                audit: audit,
                creatorVerifier: try await EntraTokenVerifier(trust: creatorTrust),
                group: group,
                threadPool: threadPool,
                nameLookups: nameLookups,
                logger: logger,
                onListening: onProxyListening
            )
        } catch {
            throw await failed("\(error)")
        }

        let (source, follower) = origin.follow(policies, settings: settings, logger: logger)
        // Stopped in the reverse order: the proxy first (no new connection; exchanges under way answered), while the
        // policies are still followed and before the shipper takes the last lines (review 52 F3).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: follower)]
        // One instance of a fleet sends each alert: the one whose claim the policy store takes first.
        let database = origin.database
        let shipper: Shipper?
        do {
            shipper = try settings.shipping.map { shipping in
                let sinks = try shipping.destinations.map {
                    try $0.makeSink(
                        stateDirectory: shipping.settings.stateDirectory,
                        consoleURL: settings.console?.publicURL?.absoluteString,
                        extraCAFiles: shipping.settings.extraCAFiles,
                        alertClaim: { key in try await database?.claimAlert(key) ?? true }
                    )
                }
                return try Shipper(settings: shipping.settings, sinks: sinks, logger: logger)
            }
        } catch {
            throw await failed("shipping: \(error)")
        }
        if let shipper { services.append(.init(service: shipper)) }
        if let admin = settings.admin {
            var authenticator: AdminAuthenticator?
            if var trust = settings.adminAuth {
                trust.reportKeyFetchFailure = { error in
                    logger.error("admin JWKS fetch failed", metadata: ["error": "\(error)"])
                }
                do {
                    authenticator = try await AdminAuthenticator(configuration: trust)
                } catch {
                    throw await failed("admin token keys: \(error)")
                }
            } else {
                logger.notice("admin policy endpoints refuse every call: no --admin-jwks or --admin-jwks-url")
            }
            var tls: TLSConfiguration?
            if let files = settings.adminTLS {
                do {
                    tls = try AdminListener.tlsConfiguration(certificatePath: files.certificate, keyPath: files.key)
                } catch {
                    throw await failed("--admin-tls-cert/--admin-tls-key: \(error)")
                }
            }
            let sessionStore = MemoryPersistDriver()
            let policyAPI = AdminPolicyAPI(
                source: source,
                store: policies,
                audit: audit,
                authenticator: authenticator,
                adminTenants: settings.adminTenants
            )
            let router = AdminRouter.make(
                policies: policies,
                renderMetrics: {
                    journalGauge?.set(Int64(audit.syncsThroughJournal ? 1 : 0))
                    return registry.emitToBuffer()
                },
                policyAPI: policyAPI,
                sourceStatus: { source.status },
                shippingStatus: {
                    (shipper?.status ?? [:]).map {
                        ShippingSinkStatus(sink: $0.key, consecutiveFailures: $0.value.consecutiveFailures)
                    }
                    .sorted { $0.sink < $1.sink }
                },
                sessionStore: sessionStore,
                secureCookies: tls != nil,
                proxyAutoConfiguration: settings.proxyAutoConfiguration?.script
            )
            if let console = settings.console {
                do {
                    try AdminConsole(
                        configuration: ConsoleConfiguration(
                            clientID: console.clientID,
                            issuer: console.issuer,
                            auditLogPath: settings.auditLogPath,
                            policiesSource: source.label,
                            publicURL: console.publicURL
                        ),
                        policies: policies,
                        policyAPI: policyAPI,
                        audit: audit,
                        secureCookies: tls != nil,
                        logger: logger
                    ).addRoutes(to: router)
                } catch {
                    throw await failed("admin console: \(error)")
                }
                logger.notice("admin console", metadata: ["issuer": "\(console.issuer)"])
            }
            do {
                services.append(
                    .init(
                        service: try AdminListener(
                            host: admin.host,
                            port: admin.port,
                            router: router,
                            tls: tls,
                            group: group,
                            services: [sessionStore],
                            logger: logger,
                            onListening: { address in
                                logger.notice("admin listening", metadata: ["address": "\(address)"])
                                onAdminListening(address)
                            }
                        )
                    )
                )
            } catch {
                throw await failed("admin listener: \(error)")
            }
        }
        services.append(.init(service: proxy))
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        )
        return Application(
            settings: settings,
            policies: policies,
            audit: audit,
            proxy: proxy,
            follower: follower,
            database: origin.running,
            serviceGroup: serviceGroup,
            group: group,
            threadPool: threadPool,
            nameLookups: nameLookups,
            logger: logger
        )
    }

    private init(
        settings: ServeSettings,
        policies: PolicyStore,
        audit: AuditLog,
        proxy: ProxyServer,
        follower: any PolicyFollower,
        database: Task<Void, Never>?,
        serviceGroup: ServiceGroup,
        group: MultiThreadedEventLoopGroup,
        threadPool: NIOThreadPool,
        nameLookups: NameLookups,
        logger: Logger
    ) {
        self.settings = settings
        self.policies = policies
        self.audit = audit
        self.proxy = proxy
        self.follower = follower
        self.database = database
        self.serviceGroup = serviceGroup
        self.group = group
        self.threadPool = threadPool
        self.nameLookups = nameLookups
        self.logger = logger
    }

    /// Serves until a graceful shutdown (a signal, or `stop()`), then releases everything. With `handleSignals`,
    /// SIGHUP reloads the policies and the CA files and reopens the audit file; SIGUSR1 reopens the audit file
    /// (nginx's signal for log rotation).
    package func run(handleSignals: Bool) async throws {
        let handlers =
            handleSignals
            ? [
                SignalHandler(SIGHUP) { [self] in reloadOnHangup() },
                SignalHandler(SIGUSR1) { [self] in reopenAudit() },
            ]
            : []
        defer { for handler in handlers { handler.cancel() } }
        do {
            try await serviceGroup.run()
        } catch {
            await release()
            throw error
        }
        await release()
    }

    /// Starts the graceful shutdown that `run` waits for.
    package func stop() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    /// SIGHUP: the policies (directory or store) at once (the watcher also notices edits within a second), the audit file
    /// reopened at its path, and a CA replaced on disk for the sessions that start after it; one that cannot be
    /// loaded leaves the old in use.
    package func reloadOnHangup() {
        follower.reload()
        reopenAudit()
        do {
            let replaced = proxy.replaceCertificateAuthority(
                try CertificateAuthority.load(certificatePath: settings.caCertificatePath, keyPath: settings.caKeyPath)
            )
            logger.notice(
                replaced ? "certificate authority reloaded" : "certificate authority unchanged; its leaves are kept",
                metadata: ["certificate": "\(settings.caCertificatePath)"]
            )
        } catch {
            logger.error(
                "certificate authority not reloaded; the old one stays in use",
                metadata: ["error": "\(error)"]
            )
        }
    }

    /// After logrotate renamed the file: new lines go to a new file at the path; a failure keeps the old file.
    package func reopenAudit() {
        switch audit.reopen() {
        case .success: logger.notice("audit log reopened", metadata: ["path": "\(settings.auditLogPath)"])
        case .failure(let error):
            logger.error("audit log not reopened; lines still go to the old file", metadata: ["error": "\(error)"])
        }
    }

    private func release() async {
        database?.cancel()
        await database?.value
        audit.close()
        await nameLookups.shutdown()
        try? await threadPool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}

/// Runs `action` on a Dispatch queue each time `number` arrives, instead of the default disposition.
package final class SignalHandler: @unchecked Sendable {
    /// Set once in `init`; a Dispatch source is safe to cancel from any thread.
    private let source: any DispatchSourceSignal

    package init(_ number: Int32, action: @escaping @Sendable () -> Void) {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler(handler: action)
        source.resume()
        self.source = source
    }

    package func cancel() { source.cancel() }
}
