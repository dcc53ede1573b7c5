import NIOCore

/// An upstream connection the pool can keep while idle.
protocol IdleKeepable {
    var channel: any Channel { get }
    var key: UpstreamConnectionPool.Key { get }
    /// When it last went back to the pool.
    var idleSince: NIODeadline { get set }
}

/// The idle connections of one kind, per target: taken newest first, kept up to a bound, swept when too old. One
/// per kind of connection in `UpstreamConnectionPool` (whole exchanges, streams), since their pipelines differ.
struct IdleConnections<Connection: IdleKeepable> {
    private var byKey: [UpstreamConnectionPool.Key: [Connection]] = [:]

    var isEmpty: Bool { byKey.isEmpty }

    /// The newest connection to `key` still open and idle since after `oldest`; older or closed ones are closed.
    mutating func take(_ key: UpstreamConnectionPool.Key, idleSince oldest: NIODeadline) -> Connection? {
        while let connection = byKey[key]?.popLast() {
            if connection.channel.isActive, connection.idleSince > oldest { return connection }
            connection.channel.close(promise: nil)
        }
        return nil
    }

    /// Keeps `connection` from now on, unless it is closed or `limit` connections to its target are kept already
    /// (then it is closed). Whether it was kept.
    mutating func keep(_ connection: Connection, limit: Int) -> Bool {
        guard connection.channel.isActive, byKey[connection.key, default: []].count < limit else {
            connection.channel.close(promise: nil)
            return false
        }
        var returned = connection
        returned.idleSince = .now()
        byKey[connection.key, default: []].append(returned)
        return true
    }

    /// Closes the connections idle since `oldest` or before.
    mutating func sweep(idleSince oldest: NIODeadline) {
        for (key, connections) in byKey {
            for connection in connections where connection.idleSince <= oldest {
                connection.channel.close(promise: nil)
            }
            let kept = connections.filter { $0.idleSince > oldest }
            byKey[key] = kept.isEmpty ? nil : kept
        }
    }
}
