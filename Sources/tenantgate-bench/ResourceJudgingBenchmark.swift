import Audit
import ExchangePolicy
import Foundation
import TenantPolicy
import TokenInspection

/// What judging costs a request on a resource host once its token is known (SPEC 4.2, a cache hit): reading the
/// credentials from its Authorization header and target, the verdict lookup, and the outcome. The proxy's own
/// work around it (TLS, HTTP, forwarding) is the same whether a host is judged or only intercepted.
enum ResourceJudgingBenchmark {
    static func run(iterations: Int) -> [BenchmarkResult] {
        let contoso = TenantID(high: 0xbb1b_10fb_a1ff_4ca4, low: 0xb979_03fc_f4af_49a0)
        let fabrikam = TenantID(high: 0x0da5_9725_89fe_4a2f, low: 0xbf22_fd45_36c9_baac)
        let policies = PolicySet(
            tenants: [
                GovernedTenant(
                    id: contoso,
                    displayName: "Contoso",
                    isolation: IsolationPolicy(
                        tenantID: contoso,
                        isEnabled: true,
                        rules: [IsolationRule(subject: .tenant(fabrikam), directions: .outbound)]
                    )
                )
            ],
            directory: TenantDirectory()
        )
        let decider = ExchangeDecider(policies: policies, nonEntraSTS: .audit)
        let header = base64URL(#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#)
        let payload = base64URL(
            #"{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/\#(fabrikam)/","iat":1700000000,"nbf":1700000000,"exp":4102444800,"appid":"e002ab83-2360-4092-bd0b-5a4c52f2f15a","oid":"6f1c3f2e-1b1e-4d0a-9f3c-3c3e2b1a0f9e","tid":"\#(fabrikam)","ver":"1.0"}"#
        )
        // A Graph token's size: its signature alone is 342 characters.
        let authorization = ["Bearer \(header).\(payload).\(base64URL(String(repeating: "s", count: 256)))"]
        // What an SDK sends beside it, each searched for tokens.
        let otherHeaders = [
            "graph.microsoft.com", "application/json", "Microsoft Graph .NET SDK/5.56.0 (hostOS=Linux)",
            "6a1f0e2c-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "gzip, deflate, br",
        ]
        let now = Date()
        var allowed = 0
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            guard
                case .success(let credentials) = ResourceCredentials.read(
                    authorization: authorization,
                    target: "/v1.0/me",
                    formBody: nil,
                    otherHeaders: otherHeaders
                )
            else { continue }
            let judgement = decider.judgeResource(
                ResourceRequest(
                    creator: contoso,
                    host: "graph.microsoft.com",
                    path: "/v1.0/me",
                    credentials: credentials
                ),
                now: now
            )
            decider.keep(judgement)
            if decider.outcome(judgement.verdict, upstreamAnswerReadable: true).decision == .allowed { allowed &+= 1 }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return [
            BenchmarkResult(
                name: "resource request judged (cached)",
                operations: iterations,
                seconds: seconds,
                checksum: allowed
            )
        ]
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
