import ArgumentParser
import Foundation
import Logging
import Metrics
import NIOCore
import NetworkPolicy
import Prometheus
import ProxyServer
import TenantGateApp

/// `serve`'s process-wide part: metrics bootstrapped once, the contract's `listening on` line, exit codes.
/// Everything else is the `Application` that the end-to-end tests build too.
struct ProxyRunner {
    let settings: ServeSettings
    var logger = Logger(label: "tenantgate")

    /// Serves until SIGTERM/SIGINT (graceful: the listener closes, open exchanges finish).
    func run() async throws {
        // Metrics are bootstrapped once, here in the executable (STYLE 7: no bootstrap outside main).
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let listen = settings.proxy.listen
        let application: Application
        do {
            application = try await Application.build(
                settings: settings,
                registry: registry,
                logger: logger,
                onProxyListening: { address in
                    // SPEC 4: one line on standard output when ready; an IPv6 address in brackets, as `--listen`
                    // and URLs take it back.
                    let ready = HostPort(host: listen.host, port: address.port ?? listen.port)
                    FileHandle.standardOutput.write(Data("listening on \(ready)\n".utf8))
                }
            )
        } catch {
            for line in error.lines { printError("tenantgate serve: \(line)") }
            throw ExitCode.badInput
        }
        try await application.run(handleSignals: true)
    }
}
