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
///
/// It also tells the log which exchanges are upstream, since their answers may bring lines that a sync under load
/// waits for. An answer is counted off only in the flush after it, once the line it brought is handed to the log, so
/// the sync never goes just before that line.
final class AuditBatch {
    typealias Completion = (Result<Void, any Error>) -> Void

    private let eventLoop: any EventLoop
    private let log: AuditLog
    private var bytes: [UInt8] = []
    private var waiting: [Completion] = []
    /// Exchanges answered since the last flush (`exchangeAnswered`).
    private var answered = 0
    private var flushScheduled = false

    init(eventLoop: any EventLoop, log: AuditLog) {
        self.eventLoop = eventLoop
        self.log = log
    }

    /// Queues `event`'s line; `completion` runs on this loop once the line is written, or with the error.
    func record(_ event: AuditEvent, completion: @escaping Completion) {
        eventLoop.assertInEventLoop()
        event.appendJSONLine(to: &bytes)
        waiting.append(completion)
        scheduleFlush()
    }

    /// An exchange went upstream: its answer may bring a line. (Heard only by a log whose syncs wait for lines.)
    func exchangeSentUpstream() {
        log.lineMayFollow()
    }

    /// Its answer came back (or its failure): counted off in the flush after this round of events.
    func exchangeAnswered() {
        guard log.waitsForLinesOnTheirWay else { return }
        answered += 1
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        eventLoop.assumeIsolated().execute { self.flush() }
    }

    /// One `write(2)` for the tick's lines; the answers wait for them to be durable (with `--audit-fsync always`
    /// the sync runs off the loop, which meanwhile serves its other connections), then run back on this loop.
    private func flush() {
        flushScheduled = false
        if !waiting.isEmpty {
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
        if answered > 0 {
            log.linesFollowed(answered)
            answered = 0
        }
    }
}

@available(*, unavailable)
extension AuditBatch: Sendable {}
