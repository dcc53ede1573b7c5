import AsyncHTTPClient
import BoundedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// `sentinel+https://...`: Microsoft Sentinel through the Azure Monitor Logs Ingestion API. Rows are ASIM
/// (`ASIMRecord`); a batch goes in calls of at most 1 MB (the API's limit), each acknowledged by its 204; a 429 or
/// 503 waits for its `Retry-After`. The token is the application's, by client credentials, kept until five
/// minutes before it expires.
package actor SentinelSink: ShipSink {
    /// The API takes at most 1 MB a call.
    static let maxCallBytes = 1_000_000

    package nonisolated let name: String
    private let ingestion: SentinelIngestion
    private let client: HTTPClient
    private let device: String
    private var token: (value: String, renewAt: Date)?

    package init(_ ingestion: SentinelIngestion, client: HTTPClient) {
        self.ingestion = ingestion
        self.client = client
        self.name = ShipTransport.sinkName("sentinel", "\(ingestion.rule)-\(ingestion.stream)")
        self.device = ShipTransport.hostname
    }

    package func deliver(_ lines: [AuditRecord]) async throws {
        let rows = lines.map { line in
            ShippingThread.offerCore()
            return ASIMRecord.row(line, device: device)
        }
        for call in Self.calls(rows) {
            try await send(call)
        }
    }

    package func shutdown() async {
        try? await client.shutdown()
    }

    /// Rows as JSON arrays of at most `maxCallBytes` each. Each row is written straight into its call; one that
    /// takes a call past the limit moves to the next; one past it alone goes `shortened`, as the API refuses such a
    /// call and the batch would be sent again for good (review 32).
    static func calls(_ rows: [ASIMRow]) -> [ByteBuffer] {
        var calls: [ByteBuffer] = []
        var call = JSONText(capacity: min(maxCallBytes, rows.count * 2048))
        var rowsInCall = 0
        for row in rows {
            ShippingThread.offerCore()
            let start = call.bytes.count
            call.raw(rowsInCall == 0 ? "[" : ",")
            row.json(to: &call)
            if call.bytes.count - start + 2 > maxCallBytes {
                let separator = call.cut(from: start).prefix(1)
                call.raw(separator)
                row.shortened().json(to: &call)
            }
            if rowsInCall > 0, call.bytes.count + 1 > maxCallBytes {
                let moved = call.cut(from: start).dropFirst()  // without its comma
                call.raw("]")
                calls.append(ByteBuffer(bytes: call.bytes))
                call = JSONText(capacity: maxCallBytes)
                call.raw("[")
                call.raw(moved)
                rowsInCall = 0
            }
            rowsInCall += 1
        }
        if rowsInCall > 0 {
            call.raw("]")
            calls.append(ByteBuffer(bytes: call.bytes))
        }
        return calls
    }

    private func send(_ body: ByteBuffer) async throws {
        var request = HTTPClientRequest(url: ingestion.ingestionURL)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(try await bearer())")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(body)
        let response = try await client.boundedAnswer(to: request, within: .seconds(30), upTo: 64 * 1024)
        let answer = response.body
        guard (200..<300).contains(response.status.code) else {
            let said = SinkAnswerQuote.quote(answer, hiding: [token?.value].compactMap { $0 })
            if response.status == .unauthorized { token = nil }
            let description = "the Logs Ingestion API answered \(response.status.code) (\(said))"
            if let wait = RetryAfter.wait(response.headers.first(name: "retry-after")) {
                throw ShipRetryAfter(wait: wait, description: description)
            }
            throw SinkError(description)
        }
    }

    /// The application's token for the ingestion scope (client credentials).
    private func bearer() async throws -> String {
        if let token, token.renewAt > Date() { return token.value }
        var request = HTTPClientRequest(url: ingestion.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        var form = URLComponents()
        form.queryItems = [
            URLQueryItem(name: "grant_type", value: "client_credentials"),
            URLQueryItem(name: "client_id", value: ingestion.clientID),
            URLQueryItem(name: "client_secret", value: ingestion.clientSecret),
            URLQueryItem(name: "scope", value: ingestion.scope),
        ]
        // `+` is a space in a form: URLComponents leaves it as it is.
        let encoded = (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        request.body = .bytes(ByteBuffer(string: encoded))
        let response = try await client.boundedAnswer(to: request, within: .seconds(30), upTo: 256 * 1024)
        let answer = response.body
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any]
        guard response.status == .ok, let value = object?["access_token"] as? String else {
            // Entra's error code, never the secret.
            let code = object?["error"] as? String ?? "\(response.status.code)"
            throw SinkError("Entra refused the Sentinel application's client credentials (\(code))")
        }
        if let problem = Self.problem(withAccessToken: value) { throw SinkError(problem) }
        let lifetime = (object?["expires_in"] as? Double) ?? Double(object?["expires_in"] as? String ?? "") ?? 3600
        token = (value, Date().addingTimeInterval(max(60, lifetime - 300)))
        return value
    }
    /// The longest access token sent on: Entra's are a few KB. A far longer one put the ingestion request's head past
    /// NIO's write buffer, where AsyncHTTPClient 1.37 stops the process on a precondition (review 20: a 100 KB token
    /// from the token endpoint killed `serve`).
    static let maximumAccessTokenBytes = 32 * 1024

    /// Why an access token is not sent on, if it is not: too long, or not the `token68` characters a bearer is.
    static func problem(withAccessToken token: String) -> String? {
        guard !token.isEmpty, token.utf8.count <= maximumAccessTokenBytes else {
            return "the Sentinel token endpoint answered an access token of \(token.utf8.count) bytes (at most "
                + "\(maximumAccessTokenBytes))"
        }
        let token68 = token.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._~+/=".utf8.contains(byte)
        }
        return token68 ? nil : "the Sentinel token endpoint answered an access token that is not a bearer token"
    }
}
