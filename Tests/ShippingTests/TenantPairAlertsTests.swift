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
