import Foundation
import Testing

import AdminAPI
import PolicyFiles
import ProxyServer
import TenantPolicy

/// What each admin path answers.
struct AdminRoutesTests {
    static func routes() -> AdminRoutes {
        let store = PolicyStore(bundle: PolicyBundle(isolation: PolicySet(), version: "v1"), nonEntraSTS: .audit)
        return AdminRoutes(policies: store, renderMetrics: { Array("tenantgate_decisions_total 3\n".utf8) })
    }

    @Test func healthReadinessAndMetrics() throws {
        let routes = Self.routes()
        #expect(routes.answer(method: "GET", path: "/healthz").status == 200)
        let ready = routes.answer(method: "GET", path: "/readyz")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(ready.body)) as? [String: Any])
        #expect(object["policy_version"] as? String == "v1")
        #expect(object["governed_tenants"] as? Int == 0)
        let metrics = routes.answer(method: "GET", path: "/metrics?x=1")
        #expect(metrics.contentType.hasPrefix("text/plain; version=0.0.4"))
        #expect(String(decoding: metrics.body, as: UTF8.self).contains("tenantgate_decisions_total 3"))
    }

    @Test func unknownPathsAndMethods() {
        #expect(Self.routes().answer(method: "GET", path: "/nope").status == 404)
        #expect(Self.routes().answer(method: "POST", path: "/healthz").status == 405)
    }
}
