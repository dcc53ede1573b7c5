import Audit
import NIOCore

/// Group commit of audit lines on one event loop (issue 6).
///
/// Exchanges decided while the loop handles one round of I/O events append their lines here; the first schedules
/// a flush, which NIO runs as a task right after that round. The flush writes all the lines in one `write(2)`,
/// followed with `AuditSync.always` by one `fdatasync` for the whole group, and then lets each exchange answer, so
/// every answer still follows its own line (SPEC 4). Writing on the loop avoids two thread hops per exchange (to a
/// writer thread and back), which cost more than the write: an append of a few hundred bytes to a regular file
/// lands in the page cache. So a tick stalls the loop's other connections for at most one write and one sync (plus,
/// when another loop is syncing at that moment, the rest of that sync, which may then cover this write too).
final class AuditBatch {
    typealias Completion = (Result<Void, any Error>) -> Void

    private let eventLoop: any EventLoop
    private let log: AuditLog
    private var bytes: [UInt8] = []
    private var waiting: [Completion] = []

    init(eventLoop: any EventLoop, log: AuditLog) {
        self.eventLoop = eventLoop
        self.log = log
    }

    /// Queues `event`'s line; `completion` runs on this loop once the line is written, or with the error.
    func record(_ event: AuditEvent, completion: @escaping Completion) {
        eventLoop.assertInEventLoop()
        event.appendJSONLine(to: &bytes)
        waiting.append(completion)
        if waiting.count == 1 {
            eventLoop.assumeIsolated().execute { self.flush() }
        }
    }

    private func flush() {
        let result = log.append(bytes, lineCount: waiting.count)
        let completions = waiting
        bytes.removeAll(keepingCapacity: true)
        waiting.removeAll(keepingCapacity: true)
        for completion in completions { completion(result) }
    }
}

@available(*, unavailable)
extension AuditBatch: Sendable {}
