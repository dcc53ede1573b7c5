import NIOCore

/// An upstream connection the pool can keep while idle.
protocol IdleKeepable {
    var channel: any Channel { get }
    var key: UpstreamConnectionPool.Key { get }
    /// When it last went back to the pool.
    var idleSince: NIODeadline { get set }
}

/// The idle connections of one kind, per target: taken newest first, kept up to a bound per target and over all of
/// them, swept when too old. One per kind of connection in `UpstreamConnectionPool` (whole exchanges, streams), since
/// their pipelines differ.
struct IdleConnections<Connection: IdleKeepable> {
    /// Each target's connections, oldest first; never an empty list.
    private var byKey: [UpstreamConnectionPool.Key: [Connection]] = [:]
    private(set) var count = 0

    var isEmpty: Bool { byKey.isEmpty }

    /// The newest connection to `key` still open and idle since after `oldest`; older or closed ones are closed.
    mutating func take(_ key: UpstreamConnectionPool.Key, idleSince oldest: NIODeadline) -> Connection? {
        guard var connections = byKey.removeValue(forKey: key) else { return nil }
        defer {
            if !connections.isEmpty { byKey[key] = connections }
        }
        while let connection = connections.popLast() {
            count -= 1
            if connection.channel.isActive, connection.idleSince > oldest { return connection }
            connection.channel.close(promise: nil)
        }
        return nil
    }

    /// Keeps `connection` from now on, unless it is closed or `perTarget` connections to its target are kept already
    /// (then it is closed). With `total` kept over all targets, the one idle longest is closed to make room. Whether
    /// it was kept.
    mutating func keep(_ connection: Connection, perTarget: Int, total: Int) -> Bool {
        guard connection.channel.isActive, (byKey[connection.key]?.count ?? 0) < perTarget, total > 0 else {
            connection.channel.close(promise: nil)
            return false
        }
        if count >= total { closeLongestIdle() }
        var returned = connection
        returned.idleSince = .now()
        byKey[connection.key, default: []].append(returned)
        count += 1
        return true
    }

    /// Closes the connections idle since `oldest` or before.
    mutating func sweep(idleSince oldest: NIODeadline) {
        for (key, connections) in byKey {
            for connection in connections where connection.idleSince <= oldest {
                connection.channel.close(promise: nil)
            }
            let kept = connections.filter { $0.idleSince > oldest }
            count -= connections.count - kept.count
            byKey[key] = kept.isEmpty ? nil : kept
        }
    }

    /// Each target's first connection is its oldest: a walk over the targets, only when the bound is reached.
    private mutating func closeLongestIdle() {
        guard let key = byKey.min(by: { $0.value[0].idleSince < $1.value[0].idleSince })?.key,
            var connections = byKey.removeValue(forKey: key)
        else { return }
        connections.removeFirst().channel.close(promise: nil)
        count -= 1
        if !connections.isEmpty { byKey[key] = connections }
    }
}
