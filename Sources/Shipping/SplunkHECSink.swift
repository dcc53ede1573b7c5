import AsyncHTTPClient
import BoundedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// `splunk+https://HOST:PORT` (or `splunk+http://`): Splunk's HTTP Event Collector with indexer acknowledgement.
/// The token comes from `--ship-secret splunk=FILE`.
///
/// A batch goes in requests of events (`sourcetype: tenantgate:audit`, the audit line as the event, its own time). With
/// acknowledgement on, Splunk's 200 only says the batch was received: the batch counts as delivered once
/// `/services/collector/ack` says its `ackId` was indexed; until then, or past `acknowledgementTimeout`, it is not,
/// and the shipper sends it again. A collector with acknowledgement off answers no `ackId`, and its 200 counts.
package final class SplunkHECSink: ShipSink {
    package let name: String
    private let base: String
    private let token: String
    private let channel = UUID().uuidString.lowercased()
    private let hostname: String
    private let client: HTTPClient
    private let acknowledgementTimeout: Duration

    /// - Parameter base: `https://HOST:PORT` (or `http://`), the `splunk+` prefix removed.
    package init(base: String, token: String, client: HTTPClient, acknowledgementTimeout: Duration = .seconds(60)) {
        self.base = base.hasSuffix("/") ? String(base.dropLast()) : base
        self.token = token
        self.acknowledgementTimeout = acknowledgementTimeout
        self.name = ShipTransport.sinkName("splunk", String(base.split(separator: "/").last ?? ""))
        self.hostname = ShipTransport.hostname
        self.client = client
    }

    /// Indexer acknowledgement takes a second or more: a batch is large, sent in requests of at most 1 MB (the
    /// collector's usual `max_content_length` is larger), whose acknowledgements are awaited together.
    package var batchLimits: (lines: Int, bytes: Int) { (5000, 8 << 20) }

    package func deliver(_ lines: [AuditRecord]) async throws {
        var ackIDs: [Int] = []
        for body in Self.events(lines, hostname: hostname) {
            let answer = try await post("/services/collector/event", body: body)
            if let ackID = answer["ackId"] as? Int { ackIDs.append(ackID) }
        }
        if !ackIDs.isEmpty { try await acknowledged(ackIDs) }
    }

    /// The lines as HEC events (`sourcetype: tenantgate:audit`, the audit line as the event, its own time), in
    /// request bodies of at most about 1 MB; a line longer than that alone goes alone, never after an empty body
    /// (review 32: Splunk refuses one, "No data", and the batch was sent again for good).
    static func events(_ lines: [AuditRecord], hostname: String) -> [ByteBuffer] {
        var bodies: [ByteBuffer] = []
        var body = ByteBuffer()
        let host = jsonString(hostname)
        for record in lines {
            ShippingThread.offerCore()
            if body.readableBytes > 0, body.readableBytes > 1_000_000 - 2 * record.line.count - 256 {
                bodies.append(body)
                body = ByteBuffer()
            }
            let time = seconds(record.time)
            body.writeString(
                #"{"time":\#(time),"host":\#(host),"source":"tenantgate","sourcetype":"tenantgate:audit","event":"#
            )
            // The line is JSON already; one that is not goes as a string.
            if !record.isJSONObject {
                body.writeString(jsonString(record.text))
            } else {
                body.writeBytes(record.line)
            }
            body.writeString("}\n")
        }
        if body.readableBytes > 0 { bodies.append(body) }
        return bodies
    }

    package func shutdown() async {
        try? await client.shutdown()
    }

    /// Seconds since the epoch with milliseconds, as HEC's `time` takes them (`String(format:)` was a tenth of the
    /// sink's time).
    static func seconds(_ date: Date) -> String {
        let milliseconds = max(0, Int64((date.timeIntervalSince1970 * 1000).rounded()))
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// Polls the acknowledgement endpoint, 250 ms apart at first, then less often, until every request is indexed.
    private func acknowledged(_ ackIDs: [Int]) async throws {
        let deadline = ContinuousClock.now + acknowledgementTimeout
        var pending = Set(ackIDs)
        var pause = Duration.milliseconds(250)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: pause)
            let list = pending.sorted().map(String.init).joined(separator: ",")
            let answer = try await post(
                "/services/collector/ack?channel=\(channel)",
                body: ByteBuffer(string: #"{"acks":[\#(list)]}"#)
            )
            let acks = answer["acks"] as? [String: Bool] ?? [:]
            pending = pending.filter { acks["\($0)"] != true }
            if pending.isEmpty { return }
            pause = min(pause * 2, .seconds(2))
        }
        throw SinkError(
            "Splunk did not acknowledge the indexing of \(pending.count) request(s) within \(acknowledgementTimeout)"
        )
    }

    private func post(_ path: String, body: ByteBuffer) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Splunk \(token)")
        request.headers.add(name: "X-Splunk-Request-Channel", value: channel)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let response = try await client.boundedAnswer(to: request, within: .seconds(30), upTo: 64 * 1024)
        let answer = response.body
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any] ?? [:]
        guard response.status == .ok else {
            // Splunk's own sentence (`Invalid token`, `Server is busy`), never the token, even where a gateway in
            // front of it echoes the request there.
            let said = (object["text"] as? String).map { " (\(SinkAnswerQuote.quote($0, hiding: [token])))" } ?? ""
            let description = "Splunk HEC \(base) answered \(response.status.code)\(said)"
            if let wait = RetryAfter.wait(response.headers.first(name: "retry-after")) {
                throw ShipRetryAfter(wait: wait, description: description)
            }
            throw SinkError(description)
        }
        return object
    }

    private static func jsonString(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed)
        return data.map { String(decoding: $0, as: UTF8.self) } ?? #""""#
    }
}
