import AsyncHTTPClient
import BoundedHTTP
import Foundation
import Metrics
import NIOCore
import NIOHTTP1

/// `--alert-webhook URL`: posts what `TenantPairAlerts` finds in the audit file to the webhook, a generic JSON
/// object, or a Microsoft Teams card (`teams+https://`, a Workflows webhook taking an Adaptive Card). It rides the
/// shipper, so alerts survive restarts and outages as shipped lines do; the pairs seen are kept in the state
/// directory (`alert-pairs.json`), so a restart does not raise them again. A new pair also counts in
/// `tenantgate_new_tenant_pairs_total`, for Prometheus rules.
///
/// One sink per webhook (`alerts`, `alerts-2`, …), each with its own position and pairs: when all shared one, a
/// failing webhook had the healthy one sent the same alert every backoff, and no later alert (review 20).
package actor AlertSink: ShipSink {
    package struct Webhook: Equatable, Sendable {
        package enum Format: Sendable { case json, teams }
        package let url: String
        package let format: Format

        /// `https://...` (or `http://`) for JSON, `teams+https://...` for a Teams card.
        package init?(parsing text: String) {
            let lowered = text.lowercased()
            let teams = lowered.hasPrefix("teams+")
            let url = teams ? String(text.dropFirst("teams+".count)) : text
            guard url.lowercased().hasPrefix("https://") || url.lowercased().hasPrefix("http://"),
                URL(string: url)?.host != nil
            else { return nil }
            self.url = url
            self.format = teams ? .teams : .json
        }
    }

    package nonisolated let name: String
    private let webhook: Webhook
    private let consoleURL: String?
    private let pairsFile: String
    private var alerts: TenantPairAlerts
    private let client: HTTPClient
    private let newPairs = Counter(label: "tenantgate_new_tenant_pairs_total")
    /// Whether this instance sends an alert: with a policy store, the one instance of the fleet that claims its key
    /// first; alone, always.
    private let claim: @Sendable (String) async throws -> Bool
    /// Alerts this instance claimed and has not yet delivered: a batch sent again after a failure sends them without
    /// claiming again (a second claim is refused, and the alert would be lost).
    private var claimedUndelivered: Set<String> = []
    /// This webhook's share of a claim's key: each webhook gets each alert once across the fleet.
    private let claimSuffix: String
    /// The first webhook's sink counts new pairs, once for all.
    private let countsPairs: Bool
    /// When the pairs file was last written, and whether pairs were learnt since: it is written at most every
    /// `pairsSaveInterval` (it holds up to `TenantPairAlerts.pairsKept` pairs), and at shutdown. A pair learnt
    /// less than that before a crash alerts again after the restart: at least once, as the lines are shipped.
    private var pairsSaved: ContinuousClock.Instant?
    private var pairsUnsaved = false
    private static let pairsSaveInterval: Duration = .seconds(5)

    /// - Parameters:
    ///   - stateDirectory: where the pairs seen are kept; on a first start, the audit file's history only teaches
    ///     its pairs, and alerting starts now.
    ///   - consoleURL: the admin console's public address, for the link that adds the rule.
    /// - Parameters:
    ///   - number: the webhook's place among `--alert-webhook`s (from 1), which names its sink, pairs file and claims.
    package init(
        webhook: Webhook,
        number: Int = 1,
        stateDirectory: String,
        consoleURL: String?,
        refusalsPerMinute: Int,
        client: HTTPClient,
        claim: @escaping @Sendable (String) async throws -> Bool = { _ in true }
    ) {
        self.claim = claim
        self.webhook = webhook
        let suffix = number == 1 ? "" : "-\(number)"
        self.name = "alerts" + suffix
        self.claimSuffix = number == 1 ? "" : "@\(number)"
        self.countsPairs = number == 1
        self.consoleURL = consoleURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.pairsFile = stateDirectory + "/alert-pairs\(suffix).json"
        let saved = FileManager.default.contents(atPath: pairsFile).flatMap {
            try? JSONDecoder().decode([String].self, from: $0)
        }
        self.alerts = TenantPairAlerts(
            seen: Set(saved ?? []),
            alertsSince: saved == nil ? Date() : .distantPast,
            refusalsPerMinute: refusalsPerMinute
        )
        self.client = client
    }

    package func deliver(_ lines: [AuditRecord]) async throws {
        var next = alerts
        let found = lines.flatMap { next.observe($0) }
        for alert in found {
            let key = alert.key + claimSuffix
            if !claimedUndelivered.contains(key) {
                guard try await claim(key) else { continue }
                claimedUndelivered.insert(key)
            }
            try await post(alert, to: webhook)
            claimedUndelivered.remove(key)
            if case .newPair = alert, countsPairs { newPairs.increment() }
        }
        pairsUnsaved = pairsUnsaved || next.seen.count != alerts.seen.count
        alerts = next
        if pairsUnsaved, pairsSaved.map({ ContinuousClock.now - $0 >= Self.pairsSaveInterval }) ?? true {
            try savePairs()
        }
    }

    package func shutdown() async {
        try? savePairs()
        try? await client.shutdown()
    }

    private func savePairs() throws {
        guard pairsUnsaved else { return }
        let data = try JSONEncoder().encode(alerts.seen.sorted())
        try data.write(to: URL(fileURLWithPath: pairsFile), options: .atomic)
        pairsSaved = .now
        pairsUnsaved = false
    }

    private func post(_ alert: TenantPairAlerts.Alert, to webhook: Webhook) async throws {
        let payload = AlertPayload(alert, consoleURL: consoleURL)
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        let body = webhook.format == .teams ? payload.teamsCard() : payload.json()
        request.body = .bytes(
            ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        )
        let response = try await client.boundedAnswer(to: request, within: .seconds(15), upTo: 64 * 1024)
        guard (200..<300).contains(response.status.code) else {
            throw SinkError(
                "the alert webhook \(URL(string: webhook.url)?.host ?? "") answered \(response.status.code)"
            )
        }
    }
}

/// An alert as the webhooks receive it.
struct AlertPayload {
    let alert: TenantPairAlerts.Alert
    let consoleURL: String?

    init(_ alert: TenantPairAlerts.Alert, consoleURL: String?) {
        self.alert = alert
        self.consoleURL = consoleURL
    }

    var summary: String {
        switch alert {
        case .newPair(let creator, let signIn, let decision, _, let host, _, _):
            "First connection between creator tenant \(creator) and sign-in tenant \(signIn) (\(host)): \(decision)"
        case .refusalRate(let minute, let count, let threshold):
            "More than \(threshold) refusals in the minute from \(Self.time(minute)) (\(count) so far)"
        case .newPairFlood(let minute, let threshold):
            "More than \(threshold) new tenant pairs in the minute from \(Self.time(minute)): the rest of that minute's "
                + "get no alert of their own; see the console's Activity"
        }
    }

    /// The console page that opens the rule that would allow the pair, filled in: an outbound rule for the
    /// creator's administrators, or an inbound one for the sign-in tenant's when only inbound refused it.
    var addRuleURL: String? {
        guard let consoleURL, case .newPair(let creator, let signIn, _, let directions, _, _, _) = alert else {
            return nil
        }
        if directions == ["inbound"] { return "\(consoleURL)/console/isolation?add=\(creator)&direction=inbound" }
        return "\(consoleURL)/console/isolation?add=\(signIn)&direction=outbound"
    }

    func json() -> [String: Any] {
        var object: [String: Any] = ["summary": summary, "source": "tenantgate"]
        switch alert {
        case .newPair(let creator, let signIn, let decision, let directions, let host, let time, let correlationID):
            object.merge(
                [
                    "alert": "new_tenant_pair", "creator_tenant": creator, "sign_in_tenant": signIn,
                    "decision": decision, "directions": directions, "host": host, "time": time,
                    "correlation_id": correlationID,
                ]
            ) { $1 }
        case .refusalRate(let minute, let count, let threshold):
            object.merge(
                ["alert": "refusal_rate", "window_start": Self.time(minute), "count": count, "threshold": threshold]
            ) { $1 }
        case .newPairFlood(let minute, let threshold):
            object.merge(
                ["alert": "new_tenant_pair_flood", "window_start": Self.time(minute), "threshold": threshold]
            ) { $1 }
        }
        if let addRuleURL { object["add_rule_url"] = addRuleURL }
        return object
    }

    /// A Teams Workflows message: one Adaptive Card with the facts and, for a new pair, the button that adds the rule.
    func teamsCard() -> [String: Any] {
        let facts = json().filter { !["summary", "source", "add_rule_url", "alert"].contains($0.key) }
            .sorted { $0.key < $1.key }
            .map { ["title": $0.key, "value": ($0.value as? [String])?.joined(separator: ", ") ?? "\($0.value)"] }
        var card: [String: Any] = [
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
            "body": [
                ["type": "TextBlock", "text": "TenantGate", "weight": "Bolder", "size": "Medium"],
                ["type": "TextBlock", "text": summary, "wrap": true], ["type": "FactSet", "facts": facts],
            ],
        ]
        if let addRuleURL {
            card["actions"] = [["type": "Action.OpenUrl", "title": "Add the rule", "url": addRuleURL]]
        }
        return [
            "type": "message",
            "attachments": [["contentType": "application/vnd.microsoft.card.adaptive", "content": card]],
        ]
    }

    private static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
