import Foundation
import Plumbing

/// The latest audit lines and everyone watching for new ones: the Activity page's source.
///
/// Fed by `AuditLog.observeWrites` on whatever thread wrote the lines (an event loop among them), so `publish`
/// only splits, keeps and hands on; rendering happens in each watcher's own task.
final class ActivityFeed: Sendable {
    /// Lines kept for a page opened later; watchers that fall this far behind lose the oldest.
    static let capacity = 500

    private struct State {
        var lines: [String] = []
        var watchers: [UInt64: AsyncStream<String>.Continuation] = [:]
        var nextWatcher: UInt64 = 0
    }

    private let state = Locked(State())

    /// Whole lines as the audit log wrote them.
    func publish(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: UInt8(ascii: "\n")).map { String(decoding: $0, as: UTF8.self) }
        guard !lines.isEmpty else { return }
        let watchers = state.withLock { state in
            state.lines.append(contentsOf: lines)
            if state.lines.count > Self.capacity { state.lines.removeFirst(state.lines.count - Self.capacity) }
            return Array(state.watchers.values)
        }
        for watcher in watchers {
            for line in lines { watcher.yield(line) }
        }
    }

    /// The kept lines, oldest first.
    func recent() -> [String] {
        state.withLock { $0.lines }
    }

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
