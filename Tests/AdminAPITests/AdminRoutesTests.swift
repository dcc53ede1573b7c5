import AdminAPI
import ExchangePolicy
import Foundation
import PolicyFiles
import PolicyService
import TenantPolicy
import Testing

/// What the unauthenticated admin paths answer, and that policy paths refuse every call without configured keys.
struct AdminRoutesTests {
    static func routes() -> AdminRoutes {
        let store = PolicyStore(bundle: PolicyBundle(isolation: PolicySet(), version: "v1"), nonEntraSTS: .audit)
        return AdminRoutes(policies: store, renderMetrics: { [] })
    }

    static func get(_ path: String, method: String = "GET") async -> AdminAnswer {
        await routes().answer(AdminRequest(method: method, uri: path, headers: []))
    }

    @Test func healthReadinessAndMetrics() async throws {
        #expect(await Self.get("/healthz").status == 200)
        let ready = await Self.get("/readyz")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(ready.body)) as? [String: Any])
        #expect(object["policy_version"] as? String == "v1")
        #expect(object["governed_tenants"] as? Int == 0)
        // What /metrics holds after real exchanges is tested through the real binary (ServeBinaryTests).
        #expect(await Self.get("/metrics?x=1").contentType.hasPrefix("text/plain; version=0.0.4"))
    }

    @Test func unknownPathsAndMethods() async {
        #expect(await Self.get("/nope").status == 404)
        #expect(await Self.get("/healthz", method: "POST").status == 405)
    }

    @Test func policyEndpointsRefuseEveryCallWithoutKeys() async {
        let isolation = await Self.get(
            "/providers/PowerPlatform.Governance/v1/tenants/bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0/tenantIsolationPolicy"
        )
        #expect(isolation.status == 401)
        #expect(isolation.header("www-authenticate")?.hasPrefix("Bearer") == true)
        #expect(await Self.get("/v1.0/policies/crossTenantAccessPolicy").status == 401)
        let badTenant = await Self.get("/providers/PowerPlatform.Governance/v1/tenants/nope/tenantIsolationPolicy")
        #expect(badTenant.status == 400)
        #expect(String(decoding: badTenant.body, as: UTF8.self).contains("Invalid tenant ID format"))
    }
}
