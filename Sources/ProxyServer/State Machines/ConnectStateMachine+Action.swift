import ExchangePolicy
import NIOCore
import NIOHTTP1
import NetworkPolicy

/// What the handler carries out for each event of a `ConnectStateMachine`.
extension ConnectStateMachine {
    /// What decides, fixed for the machine's life.
    struct Configuration {
        let interception: InterceptionRules
        let maxBodyBytes: Int
        /// Ports plain `http://` may reach (`--allow-http-port`; 80 by default), as Squid's `Safe_ports`.
        var allowedPlainPorts: Set<Int> = [80]
    }

    /// A CONNECT being read and judged.
    struct Connect {
        let target: HostPort
        let plan: InterceptionPlan
        var creator: CreatorResolver.Resolution?
        /// The CONNECT's end was read: what arrives now is raw bytes.
        var ended = false
        /// The HTTP decoder has left the pipeline, so every byte the client sent is held for the next stage.
        var parsingStopped = false
        /// The client's FIN came after the CONNECT's end: the tunnel passes it on once it is up.
        var clientFinished = false
    }

    enum Action: Equatable {
        case none
        /// Find the connection's creator tenant; then report `creatorResolved`.
        case resolveCreator(proxyAuthorization: String?, clientAddress: IPAddress)
        /// The CONNECT's head is whole: stop parsing HTTP (what follows is TLS or tunnel bytes); then report
        /// `parsingStopped`.
        case stopParsing
        /// Resolve and judge a tunnel's destination; then report `destinationResolved`.
        case resolveDestination(HostPort)
        /// Answer 200 and hand the connection over, with the raw bytes held so far.
        case accept(AcceptedConnect)
        /// Send a plain request upstream; then report `plainResponded` or `plainFailed`.
        case forwardPlain(HTTPRequestHead, body: ByteBuffer?, host: String, port: Int)
        /// Pass the plain request's answer on; `keepAlive` false closes once written.
        case answerPlain(NIOHTTPClientResponseFull, keepAlive: Bool)
        /// Refused by a policy (client, destination, plain http to an STS): audited, 403, closed.
        case refuseForbidden(ConnectionRefusal)
        /// A maker token that does not verify: audited, 407, closed.
        case refuseMakerToken(ConnectionRefusal)
        /// A request that cannot be served (malformed, a port not allowed, an upstream failure): answered, closed.
        case refuse(HTTPResponseStatus, String)
        case close
    }
}
