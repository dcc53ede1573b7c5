import Foundation
import Testing

@testable import Shipping

/// Which lines raise alerts: a pair's first line after alerting began, and the refusal that crosses the rate.
struct TenantPairAlertsTests {
    static func record(_ creator: String?, _ signIn: String?, decision: String = "blocked", second: Int) -> AuditRecord
    {
        let time = String(format: "2026-12-05T10:%02d:%02d.000Z", second / 60, second % 60)
        var fields: [String: Any] = ["time": time, "decision": decision, "correlation_id": "id-\(second)"]
        fields["creator_tenant"] = creator
        fields["sign_in_tenant"] = signIn
        return AuditRecord(line: (try? JSONSerialization.data(withJSONObject: fields)) ?? Data())
    }

    @Test func aPairIsRaisedOnceAndHistoryOnlyTeaches() {
        let start = ISO8601DateFormatter().date(from: "2026-12-05T10:00:10Z")!
        var alerts = TenantPairAlerts(seen: [], alertsSince: start, refusalsPerMinute: 0)
        #expect(alerts.observe(Self.record("a", "b", second: 5)).isEmpty)  // before alerting began: learnt
        #expect(alerts.observe(Self.record("a", "b", second: 20)).isEmpty)
        #expect(alerts.observe(Self.record("a", "a", second: 21)).isEmpty)  // same tenant: not cross-tenant
        #expect(alerts.observe(Self.record("a", nil, second: 22)).isEmpty)  // no sign-in tenant known
        let raised = alerts.observe(Self.record("a", "c", decision: "allowed", second: 23))
        guard case .newPair(let creator, let signIn, let decision, _, _, _, _) = raised.first else {
            Issue.record("no alert: \(raised)")
            return
        }
        #expect((creator, signIn, decision) == ("a", "c", "allowed"))
        #expect(alerts.observe(Self.record("c", "a", second: 24)).count == 1)  // the other way is another pair
        #expect(alerts.seen == ["a>b", "a>c", "c>a"])
    }

    /// A client may forge tokens with a new `tid` for every request to a resource host (their signatures are not
    /// the proxy's to check there): each is a new pair. Twenty a minute get an alert each, then one flood alert
    /// stands for the rest of the minute; the next minute starts over. The pairs remembered stop growing at their
    /// bound, so neither memory nor the pairs file grows with the forgeries.
    @Test func newPairsPastTheBoundOfAMinuteRaiseOneFloodAlert() {
        var alerts = TenantPairAlerts(seen: [], alertsSince: .distantPast, refusalsPerMinute: 0)
        let limit = TenantPairAlerts.newPairAlertsPerMinute
        var raised: [TenantPairAlerts.Alert] = []
        for second in 0..<50 { raised += alerts.observe(Self.record("a", "forged-\(second)", second: second)) }
        #expect(raised.filter { if case .newPair = $0 { true } else { false } }.count == limit)
        #expect(raised.count == limit + 1)
        guard case .newPairFlood(_, let threshold) = raised.last else {
            Issue.record("one alert for the rest of the minute: \(raised.last.map { "\($0)" } ?? "none")")
            return
        }
        #expect(threshold == limit)
        #expect(alerts.observe(Self.record("a", "forged-0", second: 61)).isEmpty, "remembered: no second alert")
        #expect(alerts.observe(Self.record("a", "new-next-minute", second: 62)).count == 1)

        var full = TenantPairAlerts(
            seen: Set((0..<TenantPairAlerts.pairsKept).map { "x>\($0)" }),
            alertsSince: .distantPast,
            refusalsPerMinute: 0
        )
        #expect(full.observe(Self.record("a", "b", second: 1)).count == 1)
        #expect(full.seen.count == TenantPairAlerts.pairsKept, "no pair learnt past the bound")
    }

    @Test func refusalsAboveTheRateRaiseOneAlertAMinute() {
        var alerts = TenantPairAlerts(seen: ["a>b"], alertsSince: .distantPast, refusalsPerMinute: 3)
        var raised: [TenantPairAlerts.Alert] = []
        for second in 0..<10 { raised += alerts.observe(Self.record("a", "b", second: second)) }
        for second in 60..<63 { raised += alerts.observe(Self.record("a", "b", second: second)) }
        for second in 63..<65 { raised += alerts.observe(Self.record("a", "b", decision: "allowed", second: second)) }
        #expect(raised.count == 1)
        guard case .refusalRate(_, let count, let threshold) = raised.first else { return }
        #expect((count, threshold) == (4, 3))
    }
}
