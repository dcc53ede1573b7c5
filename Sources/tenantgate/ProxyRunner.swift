import AdminAPI
import EntraAuth
import ArgumentParser
import Audit
import CertificateAuthority
import Dispatch
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import PolicyFiles
import Prometheus
import ProxyServer
import ServiceLifecycle
import UnixSignals

/// Wires `serve` together: policies, CA, audit log, event loops, the proxy service, signals.
///
/// Tests run the same code in-process (`run(onListening:)`), so end-to-end tests exercise what `serve` runs.
struct ProxyRunner {
    let settings: ServeSettings
    var logger = Logger(label: "tenantgate")

    /// Serves until SIGTERM/SIGINT (graceful: the listener closes, open exchanges finish).
    func run() async throws {
        // Metrics are bootstrapped once, here in the executable (STYLE 7: no bootstrap outside main).
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await run(registry: registry, onListening: { address in
            // SPEC 4: one line on standard output when ready.
            FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
        })
    }

    func run(
        registry: PrometheusCollectorRegistry, onListening: @escaping @Sendable (String) -> Void,
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]
    ) async throws {
        let bundle: PolicyBundle
        switch PolicyDirectoryLoader.load(directory: settings.policiesDirectory) {
        case .success(let loaded): bundle = loaded
        case .failure(let error):
            for diagnostic in error.diagnostics { printError(diagnostic.description) }
            printError("tenantgate serve: the policies in \(settings.policiesDirectory) are invalid; not starting")
            throw ExitCode.badInput
        }
        for warning in bundle.warnings { logger.warning("\(warning)") }

        let authority: CertificateAuthority
        do {
            let (loaded, created) = try CertificateAuthority.loadOrCreate(
                certificatePath: settings.caCertificatePath, keyPath: settings.caKeyPath, now: Date())
            authority = loaded
            if created { logger.notice("created a new CA; clients must trust it", metadata: ["certificate": "\(settings.caCertificatePath)"]) }
        } catch {
            printError("tenantgate serve: \(error)")
            throw ExitCode.badInput
        }

        let audit: AuditLog
        do {
            audit = try AuditLog(path: settings.auditLogPath)
        } catch {
            printError("tenantgate serve: \(error)")
            throw ExitCode.badInput
        }
        defer { audit.close() }

        let policies = PolicyStore(bundle: bundle, nonEntraSTS: settings.proxy.nonEntraSTS)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let listen = settings.proxy.listen
        let proxy: ProxyServer
        do {
            var creatorTrust = settings.creatorTrust
            let logger = self.logger
            creatorTrust.reportKeyFetchFailure = { error in
                logger.error("maker token JWKS fetch failed; the last good keys stay in use", metadata: ["error": "\(error)"])
            }
            let creatorVerifier = try await EntraTokenVerifier(trust: creatorTrust)
            proxy = try ProxyServer(
                configuration: settings.proxy, policies: policies, authority: authority, audit: audit,
                creatorVerifier: creatorVerifier, group: group,
                threadPool: threadPool, logger: logger,
                onListening: { address in onListening("\(listen.host):\(address.port ?? listen.port)") })
        } catch {
            printError("tenantgate serve: \(error)")
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw ExitCode.badInput
        }

        let watcher = PolicyDirectoryWatcher(directory: settings.policiesDirectory, store: policies, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: proxy), .init(service: watcher)]
        if let admin = settings.admin {
            let logger = self.logger
            var authenticator: AdminAuthenticator?
            if var configuration = settings.adminAuth {
                configuration.reportKeyFetchFailure = { error in logger.error("admin JWKS fetch failed", metadata: ["error": "\(error)"]) }
                do {
                    authenticator = try await AdminAuthenticator(configuration: configuration)
                } catch {
                    printError("tenantgate serve: admin token keys: \(error)")
                    try? await threadPool.shutdownGracefully()
                    try? await group.shutdownGracefully()
                    throw ExitCode.badInput
                }
            } else {
                logger.notice("admin policy endpoints refuse every call: no --admin-jwks or --admin-jwks-url")
            }
            let routes = AdminRoutes(
                policies: policies, renderMetrics: { registry.emitToBuffer() },
                policyAPI: AdminPolicyAPI(
                    policiesDirectory: settings.policiesDirectory, store: policies, audit: audit,
                    authenticator: authenticator))
            services.append(.init(service: AdminServer(
                host: admin.host, port: admin.port, group: group, routes: routes,
                onListening: { address in logger.notice("admin listening", metadata: ["address": "\(address)"]) })))
        }
        let reload = PolicyReloadOnHangup(watcher: watcher) { [logger, settings] in
            // A CA replaced on disk signs the leaves of new sessions; one that cannot be loaded leaves the old.
            do {
                proxy.replaceCertificateAuthority(
                    try CertificateAuthority.load(certificatePath: settings.caCertificatePath, keyPath: settings.caKeyPath))
                logger.notice("certificate authority reloaded", metadata: ["certificate": "\(settings.caCertificatePath)"])
            } catch {
                logger.error("certificate authority not reloaded; the old one stays in use", metadata: ["error": "\(error)"])
            }
        }
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: gracefulShutdownSignals, logger: logger))
        do {
            try await serviceGroup.run()
        } catch {
            reload.cancel()
            try? await threadPool.shutdownGracefully()
            try? await group.shutdownGracefully()
            throw error
        }
        reload.cancel()
        try? await threadPool.shutdownGracefully()
        try? await group.shutdownGracefully()
    }
}

/// SIGHUP reloads the policies directory at once (the watcher also notices edits within a second), and runs
/// `alsoReload` (the CA files).
final class PolicyReloadOnHangup {
    private let source: any DispatchSourceSignal

    init(watcher: PolicyDirectoryWatcher, alsoReload: @escaping @Sendable () -> Void) {
        signal(SIGHUP, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        source.setEventHandler {
            watcher.reload()
            alsoReload()
        }
        source.resume()
        self.source = source
    }

    func cancel() { source.cancel() }
}
