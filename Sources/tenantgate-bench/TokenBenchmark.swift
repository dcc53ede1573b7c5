import Foundation
import TenantPolicy
import TokenInspection

/// JWT claim reading and whole token-response inspection, the per-exchange parsing work of the proxy.
enum TokenBenchmark {
    static func run(iterations: Int) -> [BenchmarkResult] {
        let tenant = "0da59725-89fe-4a2f-bf22-fd4536c9baac"
        let header = base64URL(#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#)
        let payload = base64URL(
            #"{"aud":"00000003-0000-0000-c000-000000000000","iss":"https://login.microsoftonline.com/\#(tenant)/v2.0","iat":1700000000,"nbf":1700000000,"exp":1700003600,"azp":"e002ab83-2360-4092-bd0b-5a4c52f2f15a","oid":"6f1c3f2e-1b1e-4d0a-9f3c-3c3e2b1a0f9e","sub":"x","tid":"\#(tenant)","ver":"2.0"}"#
        )
        let token = "\(header).\(payload).\(base64URL(String(repeating: "s", count: 256)))"
        let body = Array(#"{"token_type":"Bearer","expires_in":3599,"access_token":"\#(token)"}"#.utf8)
        let endpoint = TokenEndpoint.match(host: "login.microsoftonline.com", path: "/\(tenant)/oauth2/v2.0/token")

        var found = 0
        var start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            if case .success(let claims) = JWTClaimReader.claims(of: token), claims.tid != nil { found &+= 1 }
        }
        let claimSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var inspected = 0
        start = DispatchTime.now().uptimeNanoseconds
        if let endpoint {
            for _ in 0..<iterations
            where TokenResponseInspector.inspect(body: body, endpoint: endpoint).signInTenant != nil {
                inspected &+= 1
            }
        }
        let inspectSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return [
            BenchmarkResult(name: "JWT claim reading", operations: iterations, seconds: claimSeconds, checksum: found),
            BenchmarkResult(
                name: "token response inspection",
                operations: iterations,
                seconds: inspectSeconds,
                checksum: inspected
            ),
        ]
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
