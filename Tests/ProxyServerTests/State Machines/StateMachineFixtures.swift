import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import TenantPolicy
import TestSupport

@testable import ProxyServer

/// Tenants, a policy and STS answers for the state-machine tests: Contoso isolates itself and admits only
/// Fabrikam outbound; Northwind is not admitted.
enum Fixtures {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind
    static let host = "login.microsoftonline.com"

    static let decider: ExchangeDecider = {
        let set = PolicySet(
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
        return ExchangeDecider(policies: set, nonEntraSTS: .audit)
    }()

    /// A token request (POST).
    static func request(_ uri: String, host: String = Fixtures.host) -> HTTPRequestHead {
        request(.POST, uri, host: host)
    }

    static func request(
        _ method: HTTPMethod,
        _ uri: String,
        host: String = Fixtures.host,
        keepAlive: Bool = true
    ) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: ["host": host])
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        return head
    }

    static func form(_ text: String = "grant_type=client_credentials&client_id=app") -> ByteBuffer {
        ByteBuffer(string: text)
    }

    /// An unsigned JWT with Entra's issuer for `tenant`: the inspection reads claims; signatures are Entra's to
    /// check, not the proxy's.
    static func token(tenant: TenantID) -> String {
        func encoded(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let claims = #"{"tid":"\#(tenant)","iss":"https://login.microsoftonline.com/\#(tenant)/v2.0","aud":"api"}"#
        return "\(encoded(#"{"alg":"RS256","typ":"JWT"}"#)).\(encoded(claims)).c2lnbmF0dXJl"
    }

    static func tokenAnswer(tenant: TenantID, headers: HTTPHeaders = [:]) -> NIOHTTPClientResponseFull {
        var all: HTTPHeaders = ["content-type": "application/json"]
        all.add(contentsOf: headers)
        return NIOHTTPClientResponseFull(
            head: HTTPResponseHead(version: .http1_1, status: .ok, headers: all),
            body: ByteBuffer(string: #"{"token_type":"Bearer","access_token":"\#(token(tenant: tenant))"}"#)
        )
    }

    static func answer(
        _ status: HTTPResponseStatus,
        _ body: String,
        headers: HTTPHeaders = [:]
    ) -> NIOHTTPClientResponseFull {
        NIOHTTPClientResponseFull(
            head: HTTPResponseHead(version: .http1_1, status: status, headers: headers),
            body: ByteBuffer(string: body)
        )
    }
}

extension TokenExchangeStateMachine.Action {
    var forwardedHead: HTTPRequestHead? {
        if case .forward(let head, _) = self { head } else { nil }
    }

    var auditEvent: AuditEvent? {
        if case .writeAudit(let event) = self { event } else { nil }
    }

    var answer: TokenExchangeStateMachine.Answer? {
        if case .answer(let answer) = self { answer } else { nil }
    }
}

extension TokenExchangeStateMachine.Answer {
    var bodyText: String { body.map { String(buffer: $0) } ?? "" }
}
