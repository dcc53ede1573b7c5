import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import TenantPolicy
import TestSupport
import TokenInspection

@testable import ProxyServer

/// Tenants, a policy and STS answers for the state-machine tests: Contoso isolates itself and admits only
/// Fabrikam outbound; Northwind is not admitted.
enum Fixtures {
    static let contoso = ExampleTenants.contoso
    static let fabrikam = ExampleTenants.fabrikam
    static let northwind = ExampleTenants.northwind
    static let host = "login.microsoftonline.com"

    /// Contoso isolated, allowing `rules` (by default Fabrikam, outbound).
    static func decider(
        mode: EnforcementMode = .enforce,
        rules: [IsolationRule] = [IsolationRule(subject: .tenant(fabrikam), directions: .outbound)]
    ) -> ExchangeDecider {
        let set = PolicySet(
            tenants: [
                GovernedTenant(
                    id: contoso,
                    displayName: "Contoso",
                    isolation: IsolationPolicy(
                        tenantID: contoso,
                        isEnabled: true,
                        rules: rules
                    )
                )
            ],
            directory: TenantDirectory()
        )
        return ExchangeDecider(policies: set, nonEntraSTS: .audit, mode: mode)
    }

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

extension Fixtures {
    /// The stamp of the n-th event of a test: its own time and IDs, so that every action is a whole, known value.
    static func stamp(_ n: UInt8) -> EventStamp {
        EventStamp(
            now: .uptimeNanoseconds(UInt64(n) * 1_000_000_000),
            date: Date(timeIntervalSince1970: 1_800_000_000 + Double(n)),
            correlationID: UUID(uuid: (n, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1)),
            traceID: UUID(uuid: (n, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 2))
        )
    }

    /// What goes upstream for a request of the session's host: its headers, the session's Host, answers asked
    /// for unencoded.
    static func upstream(_ head: HTTPRequestHead, contentLength: Int? = nil) -> HTTPRequestHead {
        var headers: HTTPHeaders = ["host": host]
        if let contentLength { headers.add(name: "content-length", value: String(contentLength)) }
        headers.add(name: "accept-encoding", value: "identity")
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    static func endpoint(_ path: String) -> TokenEndpoint {
        TokenEndpointMatcher(host: host).match(path: path)!
    }

    /// The audit line the decider's verdict makes of `record` at `stamp`: what the machine must write.
    static func line(
        _ verdict: ExchangeVerdict,
        _ record: ExchangeRecord,
        at stamp: EventStamp,
        readable: Bool = true,
        mode: EnforcementMode = .enforce
    ) -> AuditEvent {
        decider(mode: mode).outcome(verdict, upstreamAnswerReadable: readable).auditEvent(record, at: stamp.date)
    }

    /// An answer of the proxy's own, as the machine hands it over.
    static func own(
        _ answer: ProxyAnswer,
        keepAlive: Bool,
        closes: Bool? = nil,
        started: EventStamp? = nil
    ) -> SessionAnswer {
        var own = SessionAnswer(answer, keepAlive: keepAlive)
        own.closesConnection = closes ?? !keepAlive
        own.exchangeStarted = started?.now
        return own
    }

    static func forwarded(
        _ response: NIOHTTPClientResponseFull,
        keepAlive: Bool = true,
        closes: Bool = false,
        started: EventStamp? = nil
    ) -> SessionAnswer {
        var answer = SessionAnswer(forwarding: response, keepAlive: keepAlive)
        answer.closesConnection = closes
        answer.exchangeStarted = started?.now
        return answer
    }
}
