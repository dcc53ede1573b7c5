import ExchangePolicy
import NIOCore
import NetworkPolicy

/// A CONNECT that has been accepted (200 sent), with what was learnt from its request.
struct AcceptedConnect: Equatable {
    /// The CONNECT target, its host canonical.
    let target: HostPort
    /// Whether the CONNECT names a host TenantGate intercepts.
    let namesInterceptedHost: Bool
    let creator: CreatorResolver.Resolution
    /// Where a blind tunnel goes: the CONNECT target's address, judged when the CONNECT arrived, and the parent
    /// proxy it goes through.
    let tunnelRoute: UpstreamRoute?
    /// The client sent its FIN after a whole CONNECT, before the tunnel was up: the tunnel passes it on.
    var clientFinished = false
}
