import NetworkPolicy

/// A `--ship URL`, parsed: which sink it names, and where.
package enum ShipDestination: Equatable, Sendable {
    /// A syslog receiver, over TLS when `tls`.
    case syslog(HostPort, tls: Bool)
    /// The OTLP/HTTP logs endpoint, `http://` or `https://`.
    case otlp(url: String)
    /// Splunk's HTTP Event Collector at `base` (`https://HOST:PORT`), with its token.
    case splunk(base: String, token: String)
    /// Microsoft Sentinel through the Logs Ingestion API.
    case sentinel(SentinelIngestion)
    /// One `--alert-webhook` (the `number`th), fed from the same file: each webhook has its own reader and position, so
    /// one that fails holds back no other.
    case alert(AlertSink.Webhook, number: Int, refusalsPerMinute: Int)

    package struct Problem: Error, CustomStringConvertible {
        package let description: String
    }

    /// - Parameter secrets: `--ship-secret` values by name: `KIND@HOST` for one sink, else `KIND` (`splunk`).
    package init(parsing text: String, secrets: [String: String] = [:]) throws(Problem) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("syslog://") || lowered.hasPrefix("syslog+tls://") {
            let tls = lowered.hasPrefix("syslog+tls://")
            let rest = String(text.dropFirst(tls ? "syslog+tls://".count : "syslog://".count))
            guard let address = HostPort(parsing: rest.hasSuffix("/") ? String(rest.dropLast()) : rest),
                address.port > 0, !address.host.contains("@"), !address.host.contains("/")
            else {
                throw Problem(description: "'\(text)' is not syslog://HOST:PORT or syslog+tls://HOST:PORT")
            }
            self = .syslog(address, tls: tls)
        } else if lowered.hasPrefix("otlp+http://") || lowered.hasPrefix("otlp+https://") {
            var url = String(text.dropFirst("otlp+".count))
            guard !url.contains("@") else {
                throw Problem(description: "credentials do not belong in the URL: '\(text)'")
            }
            let authority = url.split(separator: "/", omittingEmptySubsequences: false)
            if authority.count <= 3 || authority[3...].allSatisfy(\.isEmpty) {
                url = authority.prefix(3).joined(separator: "/") + "/v1/logs"
            }
            guard authority.count >= 3, HostPort(parsing: String(authority[2]), defaultPort: 443) != nil else {
                throw Problem(description: "'\(text)' is not otlp+http://HOST:PORT/PATH or otlp+https://...")
            }
            self = .otlp(url: url)
        } else if lowered.hasPrefix("splunk+http://") || lowered.hasPrefix("splunk+https://") {
            let base = String(text.dropFirst("splunk+".count))
            let authority = base.split(separator: "/", omittingEmptySubsequences: false)
            guard authority.count >= 3, authority.dropFirst(3).allSatisfy(\.isEmpty), !base.contains("@"),
                let address = HostPort(parsing: String(authority[2])), address.port > 0
            else {
                throw Problem(description: "'\(text)' is not splunk+https://HOST:PORT")
            }
            guard let token = secrets["splunk@\(address.host)"] ?? secrets["splunk"] else {
                throw Problem(
                    description: "\(text) needs the collector's token: --ship-secret splunk=FILE "
                        + "(or splunk@\(address.host)=FILE), never on the command line"
                )
            }
            self = .splunk(base: authority.prefix(3).joined(separator: "/"), token: token)
        } else if lowered.hasPrefix("sentinel+https://") || lowered.hasPrefix("sentinel+http://") {
            do {
                self = .sentinel(
                    try SentinelIngestion(parsing: String(text.dropFirst("sentinel+".count)), secrets: secrets)
                )
            } catch {
                throw Problem(description: "\(error)")
            }
        } else {
            throw Problem(
                description: "'\(text)' is not a sink this build ships to: syslog://HOST:PORT, syslog+tls://HOST:PORT, "
                    + "otlp+http(s)://HOST:PORT/v1/logs, splunk+https://HOST:PORT or "
                    + "sentinel+https://ENDPOINT/dataCollectionRules/DCR/streams/STREAM"
            )
        }
    }

    /// - Parameters:
    ///   - stateDirectory: where the alerts keep the pairs they have seen;
    ///   - consoleURL: the admin console's public address, for the alerts' links;
    ///   - extraCAFiles: `--ship-ca`, trusted beside the system's roots;
    ///   - alertClaim: whether this instance sends an alert (with a fleet's policy store, the first to claim it).
    package func makeSink(
        stateDirectory: String,
        consoleURL: String?,
        extraCAFiles: [String],
        alertClaim: @escaping @Sendable (String) async throws -> Bool = { _ in true }
    ) throws -> any ShipSink {
        switch self {
        case .syslog(let address, let tls):
            return SyslogSink(
                host: address.host,
                port: address.port,
                tls: tls ? try ShipTransport.tlsContext(extraCAFiles: extraCAFiles) : nil
            )
        case .otlp(let url):
            return OTLPLogsSink(url: url, client: ShipTransport.httpClient(extraCAFiles: extraCAFiles))
        case .splunk(let base, let token):
            return SplunkHECSink(base: base, token: token, client: ShipTransport.httpClient(extraCAFiles: extraCAFiles))
        case .sentinel(let ingestion):
            return SentinelSink(ingestion, client: ShipTransport.httpClient(extraCAFiles: extraCAFiles))
        case .alert(let webhook, let number, let rate):
            return AlertSink(
                webhook: webhook,
                number: number,
                stateDirectory: stateDirectory,
                consoleURL: consoleURL,
                refusalsPerMinute: rate,
                client: ShipTransport.httpClient(extraCAFiles: extraCAFiles),
                claim: alertClaim
            )
        }
    }
}
