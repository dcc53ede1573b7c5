import Foundation
import Plumbing
import TenantPolicy

/// The latest audit lines of each tenant and everyone watching for new ones: the Activity page's source.
///
/// Fed by `AuditLog.observeWrites` on whatever thread wrote the lines (an event loop among them), so `publish`
/// only splits, files and hands on; rendering happens in each watcher's own task.
///
/// Each tenant has its own window, kept only for tenants whose administrators may sign in (`keepsTenant`): with
/// one window for everyone, any proxy client could push a tenant's decisions out of sight with lines that concern
/// no tenant (about 500 refused CONNECTs with a garbage maker token, in under 2 s). A full window gives up the oldest
/// line of the other tenant it holds most lines of, so a flood from or toward one tenant (520 refused requests naming
/// Contoso, by a maker of any tenant: review 23) pushes out its own lines, not the rest. All windows together hold at
/// most `totalCapacity` lines, as a maker may aim lines at every governed tenant.
final class ActivityFeed: Sendable {
    /// Lines kept per tenant for a page opened later; watchers that fall this far behind lose the oldest.
    static let capacity = 500
    /// Lines kept in all windows together (about 1.6 KB each).
    static let totalCapacity = 50_000

    /// One tenant's lines, oldest first, each with the other tenant it names (nil: none but this one).
    private struct Window {
        var lines: [(text: String, other: TenantID?)] = []
        var perOther: [TenantID?: Int] = [:]

        mutating func append(_ text: String, other: TenantID?) {
            lines.append((text, other))
            perOther[other, default: 0] += 1
        }

        /// Drops the oldest line of the other tenant with the most lines here.
        mutating func dropOne() {
            // The key is itself optional (a line naming no other tenant): unwrapped once, from the entry.
            guard let busiest = perOther.max(by: { $0.value < $1.value }),
                let index = lines.firstIndex(where: { $0.other == busiest.key })
            else { return }
            lines.remove(at: index)
            if busiest.value == 1 {
                perOther.removeValue(forKey: busiest.key)
            } else {
                perOther[busiest.key] = busiest.value - 1
            }
        }
    }

    private struct State {
        var windows: [TenantID: Window] = [:]
        var totalLines = 0
        var watchers: [UInt64: AsyncStream<String>.Continuation] = [:]
        var nextWatcher: UInt64 = 0

        mutating func keep(_ text: String, for tenant: TenantID, other: TenantID?) {
            windows[tenant, default: Window()].append(text, other: other)
            totalLines += 1
            if let count = windows[tenant]?.lines.count, count > ActivityFeed.capacity {
                drop(from: tenant)
            }
            guard totalLines > ActivityFeed.totalCapacity else { return }
            // This window, when it holds its share or more (the common case, and a flood's); else the largest.
            let share = ActivityFeed.totalCapacity / max(1, windows.count)
            if let count = windows[tenant]?.lines.count, count >= share {
                drop(from: tenant)
            } else if let largest = windows.max(by: { $0.value.lines.count < $1.value.lines.count })?.key {
                drop(from: largest)
            }
        }

        private mutating func drop(from tenant: TenantID) {
            windows[tenant]?.dropOne()
            totalLines -= 1
        }
    }

    private let state = Locked(State())
    private let keepsTenant: @Sendable (TenantID) -> Bool

    init(keepsTenant: @escaping @Sendable (TenantID) -> Bool) {
        self.keepsTenant = keepsTenant
    }

    /// Whole lines as the audit log wrote them.
    func publish(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: UInt8(ascii: "\n"))
        guard !lines.isEmpty else { return }
        let filed = lines.map { line in
            let tenants = Self.tenants(of: line)
            return (
                text: String(decoding: line, as: UTF8.self),
                kept: tenants.filter(keepsTenant).map { kept in (kept, tenants.first { $0 != kept }) }
            )
        }
        let watchers = state.withLock { state in
            for line in filed {
                for (tenant, other) in line.kept { state.keep(line.text, for: tenant, other: other) }
            }
            return Array(state.watchers.values)
        }
        for watcher in watchers {
            for line in filed { watcher.yield(line.text) }
        }
    }

    /// The kept lines that concern `tenant`, oldest first.
    func recent(for tenant: TenantID) -> [String] {
        state.withLock { $0.windows[tenant]?.lines.map(\.text) ?? [] }
    }

    /// The creator and sign-in tenants a line names (one when they are the same), read without parsing the line:
    /// the audit writer escapes every quote inside a value, so `"creator_tenant":"` only occurs as the key.
    static func tenants(of line: ArraySlice<UInt8>) -> Set<TenantID> {
        var tenants = Set<TenantID>()
        for key in [creatorKey, signInKey] {
            guard let start = line.firstRange(of: key)?.upperBound,
                let end = line[start...].firstIndex(of: UInt8(ascii: "\"")),
                let tenant = TenantID(String(decoding: line[start..<end], as: UTF8.self))
            else { continue }
            tenants.insert(tenant)
        }
        return tenants
    }

    private static let creatorKey = Array(#""creator_tenant":""#.utf8)
    private static let signInKey = Array(#""sign_in_tenant":""#.utf8)

    /// One watcher: new lines from now on, until `stop` runs or the stream is dropped.
    struct Watch: Sendable {
        let lines: AsyncStream<String>
        /// Sends an empty line to this watcher alone: the stream's heartbeat.
        let ping: @Sendable () -> Void
        let stop: @Sendable () -> Void
    }

    func watch() -> Watch {
        let (stream, continuation) = AsyncStream.makeStream(
            of: String.self,
            bufferingPolicy: .bufferingNewest(Self.capacity)
        )
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = continuation
            return id
        }
        let stop: @Sendable () -> Void = { [self] in
            let removed = state.withLock { $0.watchers.removeValue(forKey: id) }
            removed?.finish()
        }
        continuation.onTermination = { _ in stop() }
        return Watch(lines: stream, ping: { continuation.yield("") }, stop: stop)
    }

    /// Starts with the end of an existing audit file, so the page shows history after a restart.
    func seed(fromFile path: String, maximumBytes: Int = 256 * 1024) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return }
        let start = size > UInt64(maximumBytes) ? size - UInt64(maximumBytes) : 0
        guard (try? handle.seek(toOffset: start)) != nil, let data = try? handle.readToEnd() else { return }
        var bytes = [UInt8](data)
        if start > 0, let firstEnd = bytes.firstIndex(of: UInt8(ascii: "\n")) {
            bytes.removeSubrange(...firstEnd)  // the first line was cut by the offset
        }
        if let lastEnd = bytes.lastIndex(of: UInt8(ascii: "\n")) {
            bytes.removeSubrange(bytes.index(after: lastEnd)...)  // a line still being written
        } else {
            return
        }
        publish(bytes)
    }
}
