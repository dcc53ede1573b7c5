import AsyncHTTPClient
import BoundedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// `otlp+http://HOST:PORT/v1/logs` or `otlp+https://...`: OTLP/HTTP with the JSON encoding (`OTLPLogs`), to an
/// OpenTelemetry Collector or any OTLP endpoint. A 2xx acknowledges the batch; 429, 502, 503 and 504 are retried
/// after their `Retry-After`, as the OTLP specification asks; anything else is retried with the shipper's backoff.
package final class OTLPLogsSink: ShipSink {
    package let name: String
    private let url: String
    /// The endpoint as logs, metrics and `/readyz` show it: without its query, which may carry a key (OTLP has no
    /// header secret here, so `?api_key=` is how some collectors are reached).
    private let shownURL: String
    private let hostname: String
    private let client: HTTPClient

    /// - Parameter url: the endpoint, `http://` or `https://` (the `otlp+` prefix removed).
    package init(url: String, client: HTTPClient) {
        self.url = url
        shownURL = String(url.prefix { $0 != "?" && $0 != "#" })
        self.name = ShipTransport.sinkName("otlp", shownURL.replacingOccurrences(of: "://", with: "-"))
        self.hostname = ShipTransport.hostname
        self.client = client
    }

    package func deliver(_ lines: [AuditRecord]) async throws {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: OTLPLogs.request(lines, hostname: hostname)))
        let response = try await client.boundedAnswer(to: request, within: .seconds(30), upTo: 64 * 1024)
        let body = response.body
        guard (200..<300).contains(response.status.code) else {
            let said = SinkAnswerQuote.quote(body, hiding: SinkAnswerQuote.querySecrets(of: url))
            let description = "OTLP endpoint \(shownURL) answered \(response.status.code) (\(said))"
            if [429, 502, 503, 504].contains(response.status.code),
                let wait = RetryAfter.wait(response.headers.first(name: "retry-after"))
            {
                throw ShipRetryAfter(wait: wait, description: description)
            }
            throw SinkError(description)
        }
    }

    package func shutdown() async {
        try? await client.shutdown()
    }
}
