import Audit
import NIOCore

/// Group commit of audit lines on one event loop.
///
/// Exchanges decided while the loop handles one round of I/O events append their lines here; the first schedules
/// a flush, which NIO runs as a task right after that round. The flush writes all the lines in one `write(2)` on
/// the loop (an append of a few hundred bytes lands in the page cache), and with `AuditSync.always` hands the
/// `fdatasync` to the audit log's sync thread, where every group written meanwhile shares one sync. Each exchange
/// answers once its line is durable, so every answer still follows its own line (SPEC 4), and the loop serves its
/// other connections while the disk catches up. (When exchanges come one at a time, the loop syncs itself: it has
/// nothing else to serve, and two thread wake-ups are saved; see `AuditSyncWorker`.)
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

    /// One `write(2)` for the tick's lines; the answers wait for them to be durable (with `--audit-fsync always`
    /// the sync runs off the loop, which meanwhile serves its other connections), then run back on this loop.
    private func flush() {
        let completions = waiting
        let eventLoop = self.eventLoop
        let whenDurable = NIOLoopBound(completions, eventLoop: eventLoop)
        log.append(bytes, lineCount: completions.count) { result in
            eventLoop.execute {
                for completion in whenDurable.value { completion(result) }
            }
        }
        bytes.removeAll(keepingCapacity: true)
        waiting.removeAll(keepingCapacity: true)
    }
}

@available(*, unavailable)
extension AuditBatch: Sendable {}
