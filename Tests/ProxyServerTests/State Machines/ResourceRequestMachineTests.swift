import Audit
import ExchangePolicy
import Foundation
import NIOCore
import NIOHTTP1
import NetworkPolicy
import TenantPolicy
import TestSupport
import Testing
import TokenInspection

@testable import ProxyServer

/// A resource host's requests through the session machine, one event and its whole action at a time: the first
/// request of a token is audited before it goes upstream, the next ones go at once, a refusal is audited and
/// answered 403 without going upstream, and an unwritten line keeps the request from going at all.
struct ResourceRequestMachineTests {
    static let (s1, s2, s3) = (Fixtures.stamp(1), Fixtures.stamp(2), Fixtures.stamp(3))
    static let graph = "graph.microsoft.com"
    /// A token that outlives the stamps' clock (an hour past `Fixtures.stamp`'s dates).
    static func token(_ tenant: TenantID) -> String {
        UnsignedTokens.graph(tenant: tenant, expiresIn: s1.date.timeIntervalSinceNow + 3600)
    }

    /// A machine with a policy of its own: verdicts are cached per decider, and tests must not share them.
    static func machine() -> SessionStateMachine {
        let decider = Fixtures.decider()
        return SessionStateMachine(
            session: InterceptedSession(
                target: HostPort(host: graph, port: 443),
                creator: .known(Fixtures.contoso, source: .defaultTenant),
                tokenFlows: .judge,
                maxBodyBytes: 1024,
                tenantRestrictionsV2: nil,
                resourcePattern: .exact(graph)
            ),
            currentDecider: { decider }
        )
    }

    static func get(_ token: String) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/v1.0/me",
            headers: ["host": graph, "authorization": "Bearer \(token)"]
        )
    }

    static func upstream(_ token: String) -> HTTPRequestHead {
        HTTPRequestHead(
            version: .http1_1,
            method: .GET,
            uri: "/v1.0/me",
            headers: ["host": graph, "authorization": "Bearer \(token)", "accept-encoding": "identity"]
        )
    }

    static func counted(_ decision: AuditDecision) -> ResourceCount {
        ResourceCount(hostPattern: graph, decision: decision)
    }

    /// The line the decider's verdict makes of the request at `stamp`.
    static func line(_ token: String, at stamp: EventStamp) -> AuditEvent {
        let read = try! ResourceCredentials.read(authorization: ["Bearer \(token)"], target: "/v1.0/me", formBody: nil)
            .get()
        let verdict = Fixtures.decider().judgeResource(
            ResourceRequest(creator: Fixtures.contoso, host: graph, path: "/v1.0/me", credentials: read),
            now: stamp.date
        ).verdict
        let record = ExchangeRecord(host: graph, path: "/v1.0/me", clientID: nil, correlationID: stamp.correlationID)
        var event = Fixtures.line(verdict, record, at: stamp)
        event.event = "resource_access"
        event.method = "GET"
        return event
    }

    @Test func aTokensFirstRequestIsAuditedBeforeItGoesAndTheNextGoAtOnce() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        let line = Self.line(token, at: Self.s1)
        #expect(line.decision == .allowed)
        #expect(
            SessionMachines.send(Self.get(token), body: nil, to: &machine, at: Self.s1)
                == .count(Self.counted(.allowed), then: .writeAudit(line))
        )
        #expect(machine.auditWritten() == .forward(Self.upstream(token), body: nil))
        let answer = Fixtures.answer(.ok, "{}")
        #expect(machine.upstreamResponded(answer, at: Self.s2) == .answer(Fixtures.forwarded(answer)))
        #expect(machine.answerSent(at: Self.s2) == .none)
        #expect(
            SessionMachines.send(Self.get(token), body: nil, to: &machine, at: Self.s3)
                == .count(Self.counted(.allowed), then: .forward(Self.upstream(token), body: nil))
        )
    }

    @Test func aRefusedTokenIsAuditedAndAnswered403WithoutGoingUpstream() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.northwind)
        let line = Self.line(token, at: Self.s1)
        #expect(line.decision == .blocked)
        #expect(
            SessionMachines.send(Self.get(token), body: nil, to: &machine, at: Self.s1)
                == .count(Self.counted(.blocked), then: .writeAudit(line))
        )
        guard case .answer(let answer) = machine.auditWritten() else {
            Issue.record("the refusal is answered once audited")
            return
        }
        #expect(answer.status == .forbidden && answer.keepAlive && !answer.closesConnection)
        #expect(
            String(buffer: answer.body ?? ByteBuffer()).contains(
                #""request-id":"\#(line.correlationID.uuidString.lowercased())""#
            )
        )
    }

    @Test func anUnwrittenLineKeepsTheRequestFromGoing() {
        var machine = Self.machine()
        let token = Self.token(Fixtures.fabrikam)
        _ = SessionMachines.send(Self.get(token), body: nil, to: &machine, at: Self.s1)
        guard case .answer(let answer) = machine.auditFailed(correlationID: Self.s1.correlationID, at: Self.s2) else {
            Issue.record("a 503 instead of the request")
            return
        }
        #expect(answer.status == .serviceUnavailable && answer.closesConnection)
        #expect(machine.upstreamResponded(Fixtures.answer(.ok, "{}"), at: Self.s3) == .none)
    }
}
