import Foundation
import LoopbackSimulation
import TestSupport
import Testing

/// `/proxy.pac` from the real binary's admin listener, evaluated by a real PAC engine (pacparser): every name
/// TenantGate judges goes to it, every other name to the network's own proxy, spelled any way a client may.
@Suite(.timeLimit(.minutes(2)))
struct ProxyAutoConfigurationTests {
    static let tenantGate = "PROXY tenantgate.example:3128"
    static let gateway = "PROXY gateway.example:8080"

    @Test func thePACFileSendsWhatTenantGateJudgesToItAndTheRestToTheGateway() async throws {
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(
            extraArguments: [
                "--admin", "127.0.0.1:\(adminPort)", "--pac-proxy", "tenantgate.example:3128",
                "--pac-fallback-proxy", "gateway.example:8080", "--resource-host", "graph.microsoft.com",
                "--resource-host", "*.sharepoint.com", "--intercept-host", "sts.contoso-partner.example",
            ]
        ) { _ in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pac-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let pacPath = directory.appendingPathComponent("proxy.pac").path
            // No token: browsers and WPAD fetch it without credentials.
            let headers = try await Curl.run([
                "-s", "-m", "10", "-D", "-", "-o", pacPath, "http://127.0.0.1:\(adminPort)/proxy.pac",
            ])
            #expect(headers.hasPrefix("HTTP/1.1 200"), "\(headers)")
            #expect(headers.lowercased().contains("content-type: application/x-ns-proxy-autoconfig"))
            #expect(headers.lowercased().contains("cache-control: public, max-age=300"))

            let expected: [(url: String, directive: String)] = [
                ("https://login.microsoftonline.com/common/oauth2/v2.0/token", Self.tenantGate),
                ("https://LOGIN.MicrosoftOnline.com./common/oauth2/v2.0/token", Self.tenantGate),
                ("http://login.microsoftonline.com/", Self.tenantGate),
                ("https://login.microsoftonline.us/", Self.tenantGate),
                ("https://login.chinacloudapi.cn/", Self.tenantGate),
                ("https://sts.windows.net/", Self.tenantGate),
                ("https://westus2.login.microsoft.com/", Self.tenantGate),
                ("https://eastus.mtlsauth.microsoft.com/", Self.tenantGate),
                ("https://usgovvirginia.login.microsoftonline.us/", Self.tenantGate),
                ("https://chinaeast2.mtlsauth.partner.microsoftonline.cn/", Self.tenantGate),
                ("https://contoso.ciamlogin.com/", Self.tenantGate),
                ("https://loginex.microsoftonline.com/", Self.tenantGate),
                ("https://app.vssps.visualstudio.com/_apis/token", Self.tenantGate),
                ("https://graph.microsoft.com/v1.0/me", Self.tenantGate),
                ("https://contoso.sharepoint.com/sites/x", Self.tenantGate),
                ("https://sts.contoso-partner.example/token", Self.tenantGate),
                // Pinned device registration: never intercepted, so never sent to TenantGate.
                ("https://device.login.microsoftonline.com/", Self.gateway),
                ("https://enterpriseregistration.windows.net/", Self.gateway),
                ("https://tenant.enterpriseregistration.windows.net/", Self.gateway),
                // Lookalikes and the rest of the internet.
                ("https://sharepoint.com/", Self.gateway),
                ("https://login.microsoftonline.com.evil.example/", Self.gateway),
                ("https://evilmicrosoftonline.com/", Self.gateway),
                ("https://www.example.com/", Self.gateway),
                ("https://10.0.0.5/", Self.gateway),
            ]
            let outcome = try await ChildProcess.run(
                "/usr/bin/python3",
                ["\(ProxyEndToEndTests.repository)/Tests/EndToEndTests/Clients/pac_evaluate.py", pacPath]
                    + expected.map(\.url)
            )
            #expect(outcome.status == 0, "\(outcome.errors)")
            let answers = Dictionary(
                outcome.output.split(separator: "\n").map { line -> (String, String) in
                    let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
                    return (fields[0], fields.count > 1 ? fields[1] : "")
                },
                uniquingKeysWith: { first, _ in first }
            )
            for (url, directive) in expected {
                #expect(answers[url] == directive, "\(url)")
            }
        }
    }

    /// A proxy listening on a port chosen at start (or on every address) has no address to hand clients: the PAC
    /// file's place says what to set.
    @Test func withoutAnAddressForClientsThePACFileSaysWhatToSet() async throws {
        let adminPort = try ServeProcess.freePort()
        try await ServeProcess.with(extraArguments: ["--admin", "127.0.0.1:\(adminPort)"]) { _ in
            let answer = try await Curl.run([
                "-s", "-m", "10", "-w", "\n%{http_code}", "http://127.0.0.1:\(adminPort)/proxy.pac",
            ])
            #expect(answer.hasSuffix("\n404"), "\(answer)")
            #expect(answer.contains("--pac-proxy"))
        }
    }
}
