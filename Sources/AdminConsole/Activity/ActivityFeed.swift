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
/// no tenant (about 500 refused CONNECTs with a garbage maker token, in under 2 s).
final class ActivityFeed: Sendable {
    /// Lines kept per tenant for a page opened later; watchers that fall this far behind lose the oldest.
    static let capacity = 500

    private struct State {
        var windows: [TenantID: [String]] = [:]
        var watchers: [UInt64: AsyncStream<String>.Continuation] = [:]
        var nextWatcher: UInt64 = 0
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
            (text: String(decoding: line, as: UTF8.self), tenants: Self.tenants(of: line).filter(keepsTenant))
        }
        let watchers = state.withLock { state in
            for line in filed {
                for tenant in line.tenants {
                    Self.keep(line.text, in: &state.windows[tenant, default: []])
                }
            }
            return Array(state.watchers.values)
        }
        for watcher in watchers {
            for line in filed { watcher.yield(line.text) }
        }
    }

    private static func keep(_ line: String, in window: inout [String]) {
        window.append(line)
        if window.count > capacity { window.removeFirst() }
    }

    /// The kept lines that concern `tenant`, oldest first.
    func recent(for tenant: TenantID) -> [String] {
        state.withLock { $0.windows[tenant] ?? [] }
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
