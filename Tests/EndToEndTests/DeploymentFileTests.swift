import ArgumentParser
import Foundation
import PolicyFiles
import TestSupport
import Testing
import Yams

@testable import tenantgate

/// The deployment files, checked with the tools this machine has: systemd's own verifier and security analysis
/// for the unit, and the command's own configuration reader for the configuration it points at.
@Suite(.timeLimit(.minutes(5)))
struct DeploymentFileTests {
    static let systemd = "\(ProxyEndToEndTests.repository)/deploy/systemd"
    static let kubernetes = "\(ProxyEndToEndTests.repository)/deploy/kubernetes"

    /// The unit with its `ExecStart` binary replaced by the one `swift test` built, since `verify` checks that it
    /// is executable.
    static func unitForThisMachine() throws -> String {
        let text = try String(contentsOfFile: "\(systemd)/tenantgate.service", encoding: .utf8)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tenantgate-\(UUID()).service").path
        try text.replacingOccurrences(of: "/usr/local/bin/tenantgate", with: ServeProcess.binary)
            .write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theSystemdUnitVerifiesWithoutAWarning() async throws {
        let unit = try Self.unitForThisMachine()
        defer { try? FileManager.default.removeItem(atPath: unit) }
        let outcome = try await ChildProcess.run("/usr/bin/systemd-analyze", ["verify", unit])
        let (status, errors) = (outcome.status, outcome.errors)
        #expect(status == 0, "\(errors)")
        // `verify` exits 0 on unknown keys: any line it prints is a mistake.
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test func theSystemdUnitIsHardened() async throws {
        let unit = try Self.unitForThisMachine()
        defer { try? FileManager.default.removeItem(atPath: unit) }
        let outcome = try await ChildProcess.run("/usr/bin/systemd-analyze", ["security", "--offline=yes", unit])
        let report = outcome.output + outcome.errors
        let level = report.components(separatedBy: "Overall exposure level for ").last?
            .split(separator: ":").dropFirst().first.flatMap { Double($0.split(separator: " ").first ?? "") }
        // systemd rates 0 (locked down) to 10 (exposed); "OK" is below 2.
        #expect(try #require(level, "\(report)") < 2, "\(report)")
        let text = try String(contentsOfFile: "\(Self.systemd)/tenantgate.service", encoding: .utf8)
        for line in ["User=tenantgate", "ExecReload=/bin/kill -HUP $MAINPID", "LimitNOFILE=65536"] {
            #expect(text.contains(line), "\(line)")
        }
    }

    @Test func theConfigurationTheUnitNamesIsValidAndAbsolute() throws {
        let file = try Self.configuration("\(Self.systemd)/config.yaml")
        for path in [file.policies, file.caCert, file.caKey, file.auditLog] {
            #expect(path?.hasPrefix("/") == true, "\(path ?? "missing")")
        }
        let unit = try String(contentsOfFile: "\(Self.systemd)/tenantgate.service", encoding: .utf8)
        #expect(unit.contains("--config /etc/tenantgate/config.yaml"))
    }

    /// Every resource against the Kubernetes API's schemas, offline and strict (`scripts/validate-kubernetes.py`,
    /// kubernetes-validate from PyPI, which `.ci/run` installs).
    @Test func theKubernetesManifestsValidateOffline() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.kubernetes).filter {
            $0.hasSuffix(".yaml")
        }
        .sorted().map { "\(Self.kubernetes)/\($0)" }
        #expect(files.count == 4)
        let outcome = try await ChildProcess.run(
            "/usr/bin/env",
            ["python3", "\(ProxyEndToEndTests.repository)/scripts/validate-kubernetes.py"] + files
        )
        let (status, output, errors) = (outcome.status, outcome.output, outcome.errors)
        #expect(status == 0, "\(output)\(errors)")
        #expect(output.components(separatedBy: "valid: ").count - 1 == 6, "\(output)")
    }

    /// The Prometheus alerting rules load, and fire on the series their unit tests feed them (Debian's promtool,
    /// which `.ci/run` installs). Their metric names are the ones TenantGate exports.
    @Test func thePrometheusAlertingRulesCheckAndFireAsTested() async throws {
        let directory = "\(ProxyEndToEndTests.repository)/deploy/prometheus"
        let checked = try await ChildProcess.run(
            "/usr/bin/promtool",
            ["check", "rules", "tenantgate-alerts.yaml"],
            directory: directory
        )
        #expect(checked.status == 0, "\(checked.output)\(checked.errors)")
        let tested = try await ChildProcess.run(
            "/usr/bin/promtool",
            ["test", "rules", "tenantgate-alerts.test.yaml"],
            directory: directory
        )
        #expect(tested.status == 0, "\(tested.output)\(tested.errors)")
        let rules = try String(contentsOfFile: "\(directory)/tenantgate-alerts.yaml", encoding: .utf8)
        let sources = try [
            "Shipping/Shipper.swift", "Shipping/AlertSink.swift", "ProxyServer/ProxyMetrics.swift",
            "TenantGateApp/Application.swift",
        ].map {
            try String(contentsOfFile: "\(ProxyEndToEndTests.repository)/Sources/\($0)", encoding: .utf8)
        }
        .joined()
        for metric in [
            "tenantgate_new_tenant_pairs_total", "tenantgate_decisions_total", "tenantgate_ship_failures_total",
            "tenantgate_shipped_lines_total", "tenantgate_ship_lag_seconds", "tenantgate_audit_journal",
        ] {
            #expect(rules.contains(metric) && sources.contains("\"\(metric)\""), "\(metric)")
        }
    }

    /// The configuration and policies the ConfigMaps carry are what `serve` accepts, and the configuration's paths
    /// are where the Deployment mounts them.
    @Test func theConfigMapsHoldAValidConfigurationAndPolicies() throws {
        let text = try String(contentsOfFile: "\(Self.kubernetes)/configmap.yaml", encoding: .utf8)
        var data: [String: [String: String]] = [:]
        for case let document as [String: Any] in try Yams.load_all(yaml: text) {
            let name = (document["metadata"] as? [String: Any])?["name"] as? String ?? ""
            data[name] = document["data"] as? [String: String]
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("configmap-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configPath = directory.appendingPathComponent("config.yaml").path
        try #require(data["tenantgate-config"]?["config.yaml"]).write(
            toFile: configPath,
            atomically: true,
            encoding: .utf8
        )
        let file = try Self.configuration(configPath)
        let policies = (data["tenantgate-policies"] ?? [:]).map {
            PolicyDirectoryLoader.SourceFile(name: $0.key, contents: $0.value)
        }
        #expect(!policies.isEmpty)
        if case .failure(let error) = PolicyDirectoryLoader.load(files: policies) {
            Issue.record("the ConfigMap's policies are invalid: \(error.diagnostics)")
        }
        let deployment = try String(contentsOfFile: "\(Self.kubernetes)/deployment.yaml", encoding: .utf8)
        for (path, mount) in [
            (file.policies, "/etc/tenantgate/policies"), (file.caCert, "/etc/tenantgate/ca"),
            (file.auditLog, "/var/log/tenantgate"), (file.adminTLSCert, "/etc/tenantgate/admin-tls"),
        ] {
            #expect(path?.hasPrefix(mount) == true, "\(path ?? "missing") is not under \(mount)")
            #expect(deployment.contains("mountPath: \(mount)"), "\(mount)")
        }
    }

    /// A configuration file as `serve` reads it: its arguments, parsed by the command.
    static func configuration(_ path: String) throws -> ServeCommand {
        try ServeCommand.parse(ConfigurationArguments.arguments(fromFile: path, for: ServeCommand.self))
    }
}
