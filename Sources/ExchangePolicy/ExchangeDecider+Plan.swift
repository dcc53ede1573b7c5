import TenantPolicy
import TokenInspection

extension ExchangeDecider {
    /// What happens to a token request before anything goes upstream, under the enforcement mode.
    package enum Plan: Sendable, Equatable {
        /// Refused from the path alone (a blocked path tenant, a refused non-Entra STS): nothing is sent upstream.
        case refuseNow(ExchangeVerdict)
        /// Sent upstream; the answer must agree with `expectedSignIn`. In report-only mode a pre-check refusal rides
        /// along as `earlierRefusal`: it stands (as `would_block`) unless an Entra STS issued a token, which is judged
        /// on its own claims (`judgeResponse`).
        case forward(expectedSignIn: TenantID?, earlierRefusal: ExchangeVerdict?)
    }

    package func plan(creator: TenantID, endpoint: TokenEndpoint) -> Plan {
        switch preCheck(creator: creator, endpoint: endpoint) {
        case .forward(let expected):
            .forward(expectedSignIn: expected, earlierRefusal: nil)
        case .refuse(let verdict):
            mode == .reportOnly
                ? .forward(expectedSignIn: verdict.signInTenant, earlierRefusal: verdict) : .refuseNow(verdict)
        }
    }

    /// What a verdict becomes under the mode: its audit decision and the client's answer.
    package func outcome(_ verdict: ExchangeVerdict, upstreamAnswerReadable: Bool) -> ExchangeOutcome {
        ExchangeOutcome(verdict, mode: mode, upstreamAnswerReadable: upstreamAnswerReadable)
    }
}
