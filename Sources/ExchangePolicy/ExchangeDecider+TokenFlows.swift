import TenantPolicy
import TokenInspection

extension ExchangeDecider {
    /// Tokens an STS handed over outside its token endpoint (a `form_post` page, a redirect, JSON, a SAML assertion):
    /// judged like a token response, or refused outright under `--token-flows refuse`.
    package func judgeTokenFlow(
        _ carriers: TokenCarriers,
        creator: TenantID,
        endpoint: TokenEndpoint,
        host: String,
        handling: TokenFlowHandling
    ) -> ExchangeVerdict {
        switch handling {
        case .refuse:
            ExchangeVerdict(
                outcome: .block,
                directions: [.outbound],
                creatorTenant: creator,
                signInTenant: nil,
                reason: "\(host) handed over tokens outside its token endpoint (a form_post page, a redirect, or a "
                    + "SAML or WS-* answer), and "
                    + "this proxy refuses such flows (--token-flows refuse). An administrator can have them judged "
                    + "instead with --token-flows judge.",
                errorCodes: [500212],
                setting: "tokenFlows"
            )
        case .judge:
            judgeResponse(
                creator: creator,
                endpoint: endpoint,
                status: 200,
                evidence: TokenResponseInspector.inspect(carriers, endpoint: endpoint),
                expectedSignIn: pathTenant(of: endpoint)
            )
        }
    }
}
