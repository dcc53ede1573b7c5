import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import Shipping
import UnixSignals

/// `tenantgate ship`: the audit file's shipper alone, as a sidecar beside `serve` (or beside another host's log
/// collector): the same reader, positions and sinks as `serve --ship`. Runs until SIGTERM or SIGINT.
struct ShipCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ship",
        abstract: "Ship an audit log to SIEM sinks, at least once, resuming where each sink's acknowledgement left off."
    )

    @Option(name: .customLong("audit-log"), help: "The audit log to ship (default audit.jsonl).")
    var auditLog = "audit.jsonl"

    @OptionGroup var shipping: ShippingOptions

    func run() async throws {
        guard let (settings, destinations) = try Self.settings(shipping, auditLog: auditLog) else {
            printError("ship: name at least one sink with --ship")
            throw ExitCode.badInput
        }
        let sinks: [any ShipSink]
        do {
            sinks = try destinations.map {
                try $0.makeSink(
                    stateDirectory: settings.stateDirectory,
                    consoleURL: nil,
                    extraCAFiles: settings.extraCAFiles
                )
            }
        } catch {
            printError("--ship-ca: \(error)")
            throw ExitCode.badInput
        }
        var logger = Logger(label: "tenantgate.ship")
        logger.logLevel = .info
        let shipper = try Shipper(settings: settings, sinks: sinks, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: shipper)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.notice("shipping", metadata: ["audit_log": "\(auditLog)", "sinks": "\(sinks.map(\.name))"])
        try await group.run()
    }

    private static func settings(
        _ shipping: ShippingOptions,
        auditLog: String
    ) throws -> (Shipper.Settings, [ShipDestination])? {
        do {
            return try shipping.settings(auditLog: auditLog)
        } catch {
            printError("\(error)")
            throw ExitCode.badInput
        }
    }
}

/// `--ship`, `--ship-state` and the alerts, the same for `serve` and `ship`.
struct ShippingOptions: ParsableArguments {
    @Option(
        name: .customLong("ship"),
        help: "A sink for the audit log: syslog://HOST:PORT or otlp+http(s)://HOST:PORT/v1/logs (repeatable)."
    )
    var ship: [String] = []

    @Option(
        name: .customLong("ship-state"),
        help: "Directory of each sink's acknowledged position (default: ship-state beside the audit log)."
    )
    var shipState: String?

    @Option(
        name: .customLong("ship-secret"),
        help: "NAME=FILE: a sink's secret from a file only its owner may read, e.g. splunk=/etc/tenantgate/hec-token."
    )
    var shipSecret: [String] = []

    @Option(
        name: .customLong("ship-ca"),
        help: "A PEM file of roots trusted beside the system's for HTTPS sinks and webhooks (repeatable)."
    )
    var shipCA: [String] = []

    @Option(
        name: .customLong("alert-webhook"),
        help: "Post alerts here: https://... as JSON, teams+https://... as a Teams card (repeatable)."
    )
    var alertWebhook: [String] = []

    @Option(
        name: .customLong("alert-refusals-per-minute"),
        help: "More refusals than this in a minute raise an alert (default 60; 0: never)."
    )
    var alertRefusalsPerMinute: Int?

    /// The sinks named and where their positions live; nil when none is named.
    func settings(auditLog: String) throws(ServeSetupError) -> (Shipper.Settings, [ShipDestination])? {
        guard !ship.isEmpty || !alertWebhook.isEmpty else {
            guard shipState == nil, shipSecret.isEmpty, shipCA.isEmpty else {
                throw ServeSetupError("--ship-state, --ship-secret and --ship-ca need --ship or --alert-webhook")
            }
            guard alertRefusalsPerMinute == nil else {
                throw ServeSetupError("--alert-refusals-per-minute needs --alert-webhook")
            }
            return nil
        }
        let secrets = try self.secrets()
        var destinations: [ShipDestination] = []
        for url in ship {
            let destination: ShipDestination
            do {
                destination = try ShipDestination(parsing: url, secrets: secrets)
            } catch {
                throw ServeSetupError("--ship: \(error)")
            }
            guard !destinations.contains(destination) else { throw ServeSetupError("--ship: \(url) is named twice") }
            destinations.append(destination)
        }
        if !alertWebhook.isEmpty {
            var webhooks: [AlertSink.Webhook] = []
            for text in alertWebhook {
                guard let webhook = AlertSink.Webhook(parsing: text) else {
                    throw ServeSetupError("--alert-webhook: '\(text)' is not https://... or teams+https://...")
                }
                webhooks.append(webhook)
            }
            let rate = alertRefusalsPerMinute ?? 60
            // A minute holds no more refusals than a billion; a larger number would overflow the count it is
            // compared with.
            guard (0...1_000_000_000).contains(rate) else {
                throw ServeSetupError("--alert-refusals-per-minute: give a number from 0 (never) to 1000000000")
            }
            for (index, webhook) in webhooks.enumerated() {
                destinations.append(.alert(webhook, number: index + 1, refusalsPerMinute: rate))
            }
        }
        let directory = (auditLog as NSString).deletingLastPathComponent
        let state = shipState ?? ((directory.isEmpty ? "." : directory) + "/ship-state")
        var settings = Shipper.Settings(auditLogPath: auditLog, stateDirectory: state)
        settings.extraCAFiles = shipCA
        return (settings, destinations)
    }

    /// `--ship-secret NAME=FILE`s read, each file's first line: the file must be its owner's alone, as the CA key.
    private func secrets() throws(ServeSetupError) -> [String: String] {
        var secrets: [String: String] = [:]
        for entry in shipSecret {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ServeSetupError("--ship-secret: '\(entry)' is not NAME=FILE")
            }
            let text = try SecretFile.read(parts[1], flag: "--ship-secret \(parts[0])")
            let secret = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !secret.isEmpty else { throw ServeSetupError("--ship-secret \(parts[0]): \(parts[1]) is empty") }
            secrets[parts[0]] = secret
        }
        return secrets
    }
}
