import EntraAuth
import Foundation
import Logging
import MockSTS
import NIOCore
import NIOPosix
import NetworkPolicy
import PolicyFiles
import PolicyService
import Prometheus
import ProxyServer
import TenantGateApp
import TenantPolicy

/// The whole system on loopback: a mock Entra/Azure DevOps STS, the proxy as `serve` builds it (`Application`), and
/// curl as the client. Used by `simulate` and by the end-to-end tests.
package final class LoopbackHarness {
    package struct Response {
        package let status: Int
        package let body: String

        package init(status: Int, body: String) {
            self.status = status
            self.body = body
        }
    }

    package let directory: URL
    /// The policies in force: the directory given, or in `console` mode its copy.
    package let policiesDirectory: String
    package let sts: MockSTS
    package let policies: PolicyStore
    package let proxyPort: Int
    package let caPath: String
    package let auditPath: String
    /// The admin listener's port, when the harness was asked for one.
    package let adminPort: Int?
    /// The mock's loop, also the one a simulation's own connections use.
    package let stsGroup: MultiThreadedEventLoopGroup
    private let application: Application
    private let serving: Task<Void, any Error>

    /// The console's client ID in `console` mode.
    package static let consoleClientID = "7d3c1e52-6a0b-4f4e-9c1d-2b8e5f6a7c90"
    /// The audience of admin API tokens in `console` mode.
    package static let adminAudience = "api://tenantgate"

    /// - Parameters:
    ///   - admin: starts the admin listener with the policy endpoints, verifying callers with this.
    ///   - auditLogPath: where audit lines go (default: a file in the harness's directory; `/dev/full` for a disk
    ///     that is always full).
    ///   - policyStore: the policies from this PostgreSQL store instead (the directory still names the mock's domains).
    ///   - adminTenants: `--admin-tenant`; nil: administrators of the governed tenants.
    ///   - console: also serves the console on the admin listener (at `adminListenPort`), signing in with the mock STS
    ///     over plain HTTP on loopback; the policies are copied first, so that edits change the copy only.
    package init(
        policiesDirectory: String,
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        admin: EntraTokenTrust? = nil,
        auditLogPath: String? = nil,
        console: Bool = false,
        adminListenPort: Int = 0,
        proxyListenPort: Int = 0,
        policyStore: PolicyStoreSettings? = nil,
        adminTenants: Set<TenantID>? = nil,
        consolePublicURL: URL? = nil
    ) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantgate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var policiesDirectory = policiesDirectory
        if console {
            let copy = directory.appendingPathComponent("policies")
            try FileManager.default.copyItem(at: URL(fileURLWithPath: policiesDirectory), to: copy)
            policiesDirectory = copy.path
        }
        self.policiesDirectory = policiesDirectory
        stsGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bundle = try PolicyDirectoryLoader.load(directory: policiesDirectory).get()
        sts = try await MockSTS.start(
            group: stsGroup,
            options: MockSTSOptions(domains: Self.domains(bundle.isolation)),
            plainHTTP: console
        )
        let stsCA = directory.appendingPathComponent("sts-ca.pem").path
        try sts.caCertificatePEM.write(toFile: stsCA, atomically: true, encoding: .utf8)

        var configuration = ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: proxyListenPort))
        for host in MockSTS.hosts {
            configuration.upstreamOverrides["\(host):443"] = HostPort(host: "127.0.0.1", port: sts.port)
        }
        configuration.upstreamCAFiles = [stsCA]
        // The mock also listens on an ephemeral port that tests reach through blind tunnels: loopback is opened.
        configuration.allowedConnectPorts.insert(sts.port)
        configuration.allowedDestinations = [AddressRange(cidr: "127.0.0.0/8")].compactMap { $0 }
        configure(&configuration)
        caPath = directory.appendingPathComponent("ca.pem").path
        auditPath = auditLogPath ?? directory.appendingPathComponent("audit.jsonl").path
        // Makers' tokens are signed by the mock STS, as Entra signs real ones: its keys are the trusted ones.
        var admin = admin
        if console, admin == nil {
            admin = EntraTokenTrust(
                keys: try .json(sts.jwksJSON),
                issuers: .entraIssuerOfTokenTenant,
                audiences: [Self.adminAudience]
            )
        }
        var settings = ServeSettings(
            proxy: configuration,
            policiesDirectory: policiesDirectory,
            caCertificatePath: caPath,
            caKeyPath: directory.appendingPathComponent("ca.key").path,
            auditLogPath: auditPath,
            creatorTrust: EntraTokenTrust(
                keys: try .json(sts.jwksJSON),
                issuers: .entraIssuerOfTokenTenant,
                audiences: ["https://service.powerapps.com/"]
            ),
            admin: admin == nil ? nil : HostPort(host: "127.0.0.1", port: adminListenPort),
            adminAuth: admin,
            // Edits to the policies directory take effect as under `serve`, polled every 200 ms here.
            policyWatchInterval: .milliseconds(200)
        )
        settings.policyStore = policyStore
        settings.adminTenants = adminTenants

        if console, let plainPort = sts.plainPort,
            let issuer = URL(string: "http://127.0.0.1:\(plainPort)/organizations/v2.0")
        {
            settings.console = ConsoleSettings(
                clientID: Self.consoleClientID,
                issuer: issuer,
                publicURL: consolePublicURL
            )
        }
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let (adminPorts, adminPortSink) = AsyncStream.makeStream(of: Int.self)
        if admin == nil { adminPortSink.finish() }
        let application = try await Application.build(
            settings: settings,
            registry: PrometheusCollectorRegistry(),
            logger: Logger(label: "tenantgate.harness"),
            onProxyListening: { address in
                portSink.yield(address.port ?? 0)
                portSink.finish()
            },
            onAdminListening: { address in
                adminPortSink.yield(address.port ?? 0)
                adminPortSink.finish()
            },
            gracefulShutdownSignals: []
        )
        self.application = application
        policies = application.policies
        serving = Task { try await application.run(handleSignals: false) }
        var iterator = ports.makeAsyncIterator()
        proxyPort = await iterator.next() ?? 0
        var adminIterator = adminPorts.makeAsyncIterator()
        adminPort = await adminIterator.next()
    }

    /// Puts another policies directory in force (the next exchange sees it).
    package func usePolicies(_ policiesDirectory: String) throws {
        policies.replace(with: try PolicyDirectoryLoader.load(directory: policiesDirectory).get())
    }

    /// A token request through the proxy with curl, as connector hosts send it.
    package func tokenRequest(
        creator: TenantID?,
        host: String = "login.microsoftonline.com",
        path: String,
        form: String = Curl.clientCredentialsForm,
        extraCurlArguments: [String] = []
    ) async throws -> Response {
        var makerToken: String?
        if let creator { makerToken = try await sts.makerToken(tenant: creator) }
        return try await Curl.tokenRequest(
            proxyPort: proxyPort,
            caPath: caPath,
            makerToken: makerToken,
            host: host,
            path: path,
            form: form,
            extraArguments: extraCurlArguments
        )
    }

    /// A GET on a resource host through the proxy with curl, with the maker's token and a bearer token.
    package func resourceRequest(creator: TenantID, url: String, bearer: String) async throws -> Response {
        let makerToken = try await sts.makerToken(tenant: creator)
        let output = try await Curl.run([
            "-s", "-m", "20", "--proxy", "http://127.0.0.1:\(proxyPort)", "--cacert", caPath,
            "--proxy-header", "Proxy-Authorization: Bearer \(makerToken)", "-H", "Authorization: Bearer \(bearer)",
            "-w", "\n%{http_code}", url,
        ])
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return Response(status: lines.last.flatMap { Int($0) } ?? 0, body: lines.dropLast().joined(separator: "\n"))
    }

    package func auditLines() -> [String] {
        ((try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    package func stop() async {
        await application.stop()
        _ = try? await serving.value
        try? await sts.shutdown()
        try? await stsGroup.shutdownGracefully()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func domains(_ set: PolicySet) -> [String: TenantID] {
        var result: [String: TenantID] = [:]
        for tenant in set.tenants.values { for domain in tenant.domains { result[domain] = tenant.id } }
        return result
    }
}

/// Runs the curl command line with a deadline.
package enum Curl {
    package struct Failure: Error, CustomStringConvertible {
        package let description: String

        package init(description: String) {
            self.description = description
        }
    }

    /// A client-credentials grant with a made-up secret.
    package static let clientCredentialsForm =
        "grant_type=client_credentials&client_id=e002ab83-2360-4092-bd0b-5a4c52f2f15a&client_secret=s3cr3t-value"

    /// A token request through the proxy on `proxyPort` trusting its CA at `caPath`, as connector hosts send it,
    /// with the maker's token in `Proxy-Authorization` when there is one.
    package static func tokenRequest(
        proxyPort: Int,
        caPath: String,
        makerToken: String?,
        host: String = "login.microsoftonline.com",
        path: String,
        form: String = clientCredentialsForm,
        extraArguments: [String] = []
    ) async throws -> LoopbackHarness.Response {
        var arguments = [
            "-s", "-m", "20", "--proxy", "http://127.0.0.1:\(proxyPort)", "--cacert", caPath, "-d", form,
            "-w", "\n%{http_code}", "https://\(host)\(path)",
        ]
        if let makerToken { arguments += ["--proxy-header", "Proxy-Authorization: Bearer \(makerToken)"] }
        let output = try await run(arguments + extraArguments)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let status = lines.last.flatMap { Int($0) } ?? 0
        return LoopbackHarness.Response(status: status, body: lines.dropLast().joined(separator: "\n"))
    }

    /// Waits for curl on a Dispatch thread: a blocked cooperative thread would starve the proxy and the mock STS,
    /// which run on the same small pool in `simulate` and the tests.
    package static func run(_ arguments: [String], timeoutSeconds: Double = 30) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(arguments, timeoutSeconds: timeoutSeconds) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], timeoutSeconds: Double) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning {
            if Date() > deadline {
                // SIGKILL: serving processes ignore SIGTERM (ServiceLifecycle handles it), and children inherit that.
                kill(process.processIdentifier, SIGKILL)
                throw Failure(description: "curl did not finish in \(timeoutSeconds) s")
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return String(decoding: data, as: UTF8.self)
    }
}
