import LoopbackSimulation
import MockSTS
import TenantPolicy
import Testing

/// The servers TenantGate talks to must be named by their certificates, not only trusted (RFC 9525).
struct UpstreamIdentityTests {
    static let contoso = ProxyEndToEndTests.contoso

    /// Review 51 F1: a certificate from a trusted CA that names only the address connected to (what a parent proxy
    /// or a DNS answer can present) was taken for login.microsoftonline.com and graph.microsoft.com, and the server
    /// behind it read client secrets and bearer tokens.
    @Test(arguments: [["127.0.0.1"], ["login.microsoftonline.com", "graph.microsoft.com"]])
    func aServerIsReachedOnlyUnderTheNameItsCertificateCarries(_ names: [String]) async throws {
        let named = names.count > 1
        try await ServeProcess.with(
            stsOptions: MockSTSOptions(certificateNames: names),
            extraArguments: ["--resource-host", "graph.microsoft.com"]
        ) { serve in
            let exchange = try await serve.exchange(creator: Self.contoso, signIn: Self.contoso)
            #expect(exchange.status == (named ? 200 : 502), "\(exchange.body)")
            #expect(serve.sts.tokenRequestCount(tenantSegment: Self.contoso.description) == (named ? 1 : 0))
            let bearer = try await serve.sts.makerToken(tenant: Self.contoso)
            let graph = try await serve.curl(
                serve.makerHeader(bearer) + [
                    "-H", "Authorization: Bearer \(bearer)", "https://graph.microsoft.com/v1.0/organization",
                ]
            )
            #expect(graph.status == (named ? 200 : 502), "\(graph.body)")
            if !named { #expect(graph.body.contains("does not name graph.microsoft.com"), "\(graph.body)") }
        }
    }
}
