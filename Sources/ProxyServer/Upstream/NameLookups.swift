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
/// - a caller waits at most `deadline` (then 504); a lookup still running keeps its client's place until it ends.
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
    private let deadline: TimeAmount

    package init(deadline: TimeAmount) {
        self.deadline = deadline
        clientPool = NIOThreadPool(numberOfThreads: Self.clientThreads)
        proxyPool = NIOThreadPool(numberOfThreads: Self.proxyThreads)
        clientPool.start()
        proxyPool.start()
    }

    package func shutdown() async {
        try? await clientPool.shutdownGracefully()
        try? await proxyPool.shutdownGracefully()
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
                            detail: "this client has \(Self.perClient) name lookups under way; \(name) waits for "
                                + "one of them to end"
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
