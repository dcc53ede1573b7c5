import NIOCore
import NIOEmbedded
import Testing

@testable import ProxyServer

/// The pool's idle connections: bounded per target and over all targets, the one idle longest giving way.
struct IdleConnectionsTests {
    struct Idle: IdleKeepable {
        let channel: any Channel
        let key: UpstreamConnectionPool.Key
        var idleSince = NIODeadline.now()
    }

    static func idle(_ host: String) throws -> Idle {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 443)).wait()
        return Idle(channel: channel, key: UpstreamConnectionPool.Key(host: host, port: 443, tls: true))
    }

    /// Review 41 F1: a client naming thousands of origins once each left a pooled connection to each behind it.
    @Test func manyTargetsKeepNoMoreThanTheTotalTheOldestGivingWay() throws {
        var pool = IdleConnections<Idle>()
        let connections = try (0..<5).map { try Self.idle("origin-\($0).example") }
        for connection in connections {
            let kept = pool.keep(connection, perTarget: 4, total: 3)
            #expect(kept)
        }
        #expect(pool.count == 3)
        #expect(connections.prefix(2).allSatisfy { !$0.channel.isActive }, "the two kept longest are closed")
        #expect(connections.suffix(3).allSatisfy { $0.channel.isActive })
        let closed = pool.take(connections[0].key, idleSince: .distantPast)
        let newest = pool.take(connections[4].key, idleSince: .distantPast)
        #expect(closed == nil && newest?.key == connections[4].key)
        #expect(pool.count == 2)
    }

    @Test func oneTargetKeepsNoMoreThanItsOwnBound() throws {
        var pool = IdleConnections<Idle>()
        let connections = try (0..<3).map { _ in try Self.idle("login.microsoftonline.com") }
        let kept = connections.map { pool.keep($0, perTarget: 2, total: 10) }
        #expect(kept == [true, true, false])
        #expect(!connections[2].channel.isActive && pool.count == 2)
        pool.sweep(idleSince: .now())
        #expect(pool.count == 0 && pool.isEmpty)
    }
}
