import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy
import Testing

@testable import ProxyServer

/// Session machines for the tests, and a request fed to one part by part.
enum SessionMachines {
    static let organizations = "/organizations/oauth2/v2.0/token"

    static func make(
        creator: CreatorResolver.Resolution = .known(Fixtures.contoso, source: .defaultTenant),
        mode: EnforcementMode = .enforce,
        tokenFlows: TokenFlowHandling = .judge,
        currentDecider: (() -> ExchangeDecider)? = nil
    ) -> SessionStateMachine {
        let decider = Fixtures.decider(mode: mode)
        return SessionStateMachine(
            session: InterceptedSession(
                target: HostPort(host: Fixtures.host, port: 443),
                creator: creator,
                client: IPAddress("127.0.0.1")!,
                tokenFlows: tokenFlows,
                maxBodyBytes: 1024,
                tenantRestrictionsV2: nil
            ),
            currentDecider: currentDecider ?? { decider }
        )
    }

    /// Feeds a whole request at `stamp`; the head and body change nothing, the end's action is returned.
    static func send(
        _ head: HTTPRequestHead,
        body: ByteBuffer? = Fixtures.form(),
        to machine: inout SessionStateMachine,
        at stamp: EventStamp
    ) -> SessionStateMachine.Action {
        #expect(machine.requestPartReceived(.head(head), at: stamp) == .none)
        if let body { #expect(machine.requestPartReceived(.body(body), at: stamp) == .none) }
        return machine.requestPartReceived(.end(nil), at: stamp)
    }
}
