import AdminAPI
import ExchangePolicy
import Foundation
import Hummingbird
import HummingbirdTesting
import PolicyFiles
import PolicyService
import TenantPolicy
import Testing

/// The admin router through Hummingbird's test client: what the unauthenticated paths answer, the error shapes of
/// unknown paths and methods, and that policy paths refuse every call without configured keys.
struct AdminRouterTests {
    static let isolationPath =
        "/providers/PowerPlatform.Governance/v1/tenants/bb1b10fb-a1ff-4ca4-b979-03fcf4af49a0/tenantIsolationPolicy"

    static func withClient(_ test: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let store = PolicyStore(bundle: PolicyBundle(isolation: PolicySet(), version: "v1"), nonEntraSTS: .audit)
        let router = AdminRouter.make(
            policies: store,
            renderMetrics: { Array("tenantgate_up 1\n".utf8) },
            policyAPI: nil,
            secureCookies: false
        )
        try await Application(router: router).test(.router, test)
    }

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await Self.withClient { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            let object = try Self.json(ready)
            #expect(object["policy_version"] as? String == "v1")
            #expect(object["governed_tenants"] as? Int == 0)
            let metrics = try await client.execute(uri: "/metrics?x=1", method: .get)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(String(buffer: metrics.body) == "tenantgate_up 1\n")
            let head = try await client.execute(uri: "/healthz", method: .head)
            #expect(head.status == .ok)
            #expect(head.body.readableBytes == 0)
        }
    }

    @Test func unknownPathsAndMethodsInEachShape() async throws {
        try await Self.withClient { client in
            let nope = try await client.execute(uri: "/nope", method: .get)
            #expect(nope.status == .notFound)
            #expect(try Self.json(nope)["error"] as? String == "not_found")
            #expect(try await client.execute(uri: "/healthz", method: .post).status == .methodNotAllowed)

            let isolation = try await client.execute(uri: Self.isolationPath + "/nope", method: .get)
            #expect(isolation.status == .notFound)
            #expect((try Self.json(isolation)["error"] as? [String: Any])?["code"] as? String == "NotFound")
            let graph = try await client.execute(uri: "/v1.0/policies/crossTenantAccessPolicy/nope", method: .get)
            #expect(graph.status == .notFound)
            #expect(
                (try Self.json(graph)["error"] as? [String: Any])?["code"] as? String == "Request_ResourceNotFound"
            )
            // A method the path lacks is answered after authentication, so an anonymous caller learns nothing.
            let method = try await client.execute(uri: Self.isolationPath + "/rules", method: .delete)
            #expect(method.status == .unauthorized)
        }
    }

    @Test func policyEndpointsRefuseEveryCallWithoutKeys() async throws {
        try await Self.withClient { client in
            let isolation = try await client.execute(uri: Self.isolationPath, method: .get)
            #expect(isolation.status == .unauthorized)
            #expect(isolation.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            let graph = try await client.execute(uri: "/v1.0/policies/crossTenantAccessPolicy", method: .get)
            #expect(graph.status == .unauthorized)
            let badTenant = try await client.execute(
                uri: "/providers/PowerPlatform.Governance/v1/tenants/nope/tenantIsolationPolicy",
                method: .get
            )
            #expect(badTenant.status == .badRequest)
            #expect(String(buffer: badTenant.body).contains("Invalid tenant ID format"))
        }
    }

    @Test func aBodyOverTheLimitIsOne413() async throws {
        try await Self.withClient { client in
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: AdminRequestContext.maximumBodyBytes + 1)
            let answer = try await client.execute(uri: "/healthz", method: .post, body: body)
            #expect(answer.status == .contentTooLarge)
        }
    }
}
