import NIOCore
import NIOPosix
import NetworkPolicy
import Plumbing

/// Name lookups. `getaddrinfo` holds its thread until the resolver answers or gives up, which for a name whose DNS
/// server never answers takes tens of seconds: on a pool shared by everything, a client that asked for two such
/// names a second stalled every other client's CONNECT for 27 s and more, and the leaf certificates of
/// interception waited behind them (review 26). So:
/// - names a client chose (a CONNECT's, a plain request's, a redirected connection's) are looked up on a pool of
///   their own, at most `perClient` at a time for one client address, running or waiting: another is refused at
///   once (503), and the other clients keep the rest of the threads;
/// - names the proxy chose (the hosts it intercepts, a parent proxy's, an override's) are looked up on another;
/// - a caller waits at most `deadline` (then 504); a lookup still running keeps its client's place until it ends;
/// - an address asked for while a lookup of the same name is under way waits for that one: a busy client's sixteen
///   connections to one name under a `*.suffix` resource host took its four places and twelve got 503 (review 52
///   F4).
package final class NameLookups: Sendable {
    static let clientThreads = 16
    static let perClient = 4
    static let proxyThreads = 4

    /// Why a lookup gave no address in time, or was not started.
    struct Failure: Error {
        let upstream: UpstreamError
    }

    private let clientPool: NIOThreadPool
    private let proxyPool: NIOThreadPool
    private let underWay = Locked<[IPAddress: Int]>([:])
    /// Address lookups under way, by `host:port`.
    private let addressLookups = Locked<[String: EventLoopFuture<SocketAddress>]>([:])
    private let deadline: TimeAmount
    /// `getaddrinfo`, or what stands for it in tests.
    private let resolve: @Sendable (String, Int) throws -> SocketAddress

    package init(
        deadline: TimeAmount,
        resolve: @escaping @Sendable (String, Int) throws -> SocketAddress = SocketAddress.makeAddressResolvingHost
    ) {
        self.deadline = deadline
        self.resolve = resolve
        clientPool = NIOThreadPool(numberOfThreads: Self.clientThreads)
        proxyPool = NIOThreadPool(numberOfThreads: Self.proxyThreads)
        clientPool.start()
        proxyPool.start()
    }

    package func shutdown() async {
        try? await clientPool.shutdownGracefully()
        try? await proxyPool.shutdownGracefully()
    }

    /// The address of `host:port` for `client` (nil: a name the proxy chose), from the lookup of it already under
    /// way if there is one.
    func address(
        of host: String,
        port: Int,
        for client: IPAddress?,
        on eventLoop: any EventLoop
    )
        -> EventLoopFuture<SocketAddress>
    {
        let key = "\(host.lowercased()):\(port)"
        let (answer, promise) = addressLookups.withLock {
            lookups -> (EventLoopFuture<SocketAddress>, EventLoopPromise<SocketAddress>?) in
            if let running = lookups[key] { return (running, nil) }
            let promise = eventLoop.makePromise(of: SocketAddress.self)
            lookups[key] = promise.futureResult
            return (promise.futureResult, promise)
        }
        if let promise {
            let (addressLookups, resolve) = (self.addressLookups, self.resolve)
            run(host, for: client, on: eventLoop) { try resolve(host, port) }
                .whenComplete { result in
                    addressLookups.withLock { _ = $0.removeValue(forKey: key) }
                    promise.completeWith(result)
                }
        }
        return answer.hop(to: eventLoop)
    }

    /// Runs `lookup` of `name` for `client` (nil: a name the proxy chose).
    func run<Value: Sendable>(
        _ name: String,
        for client: IPAddress?,
        on eventLoop: any EventLoop,
        _ lookup: @escaping @Sendable () throws -> Value
    ) -> EventLoopFuture<Value> {
        if let client {
            let admitted = underWay.withLock { underWay in
                guard underWay[client, default: 0] < Self.perClient else { return false }
                underWay[client, default: 0] += 1
                return true
            }
            guard admitted else {
                return eventLoop.makeFailedFuture(
                    Failure(
                        upstream: UpstreamError(
                            code: .overloaded,
                            detail: "this client has \(Self.perClient) name lookups under way; \(name) is refused "
                                + "until one of them ends"
                        )
                    )
                )
            }
        }
        let underWay = self.underWay
        let pool = client == nil ? proxyPool : clientPool
        let running = pool.runIfActive(eventLoop: eventLoop) {
            defer {
                if let client {
                    underWay.withLock { underWay in
                        let left = underWay[client, default: 1] - 1
                        underWay[client] = left > 0 ? left : nil
                    }
                }
            }
            return try lookup()
        }
        let answer = eventLoop.makePromise(of: Value.self)
        let seconds = deadline.nanoseconds / 1_000_000_000
        let late = eventLoop.scheduleTask(in: deadline) {
            answer.fail(
                Failure(
                    upstream: UpstreamError(code: .timedOut, detail: "looking up \(name) took longer than \(seconds) s")
                )
            )
        }
        running.whenComplete { result in
            late.cancel()
            answer.completeWith(result)
        }
        return answer.futureResult
    }
}
