import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The one thread all shipping runs on, at the lowest priority (`SCHED_IDLE`): reading the audit file, writing each
/// sink's format, and talking to the receivers.
///
/// An exchange never waits for shipping (its line is on disk before its answer leaves), so shipping should take only
/// the CPU that exchanges leave. On the cooperative pool and NIO's shared loops it ran in bursts on every core, beside
/// the event loops; here it holds at most one core, a waking event loop preempts it, and it offers its core between
/// lines (`offerCore()`).
/// On a saturated machine shipping falls behind (`tenantgate_ship_lag_seconds`) and catches up when load drops: the
/// file keeps every line meanwhile.
package final class ShippingThread: TaskExecutor {
    package static let shared = ShippingThread()

    /// For the sinks' connections, so their I/O runs on this thread too.
    package let group: MultiThreadedEventLoopGroup
    private let loop: any EventLoop

    private init() {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        loop = group.next()
        // SCHED_IDLE (sched(7)): a waking event loop preempts this thread at once, where a nice one may finish its
        // slice first. Linux schedules each thread on its own, and pid 0 is the calling one: only this thread is
        // lowered. 5 is SCHED_IDLE, which Glibc declares only for _GNU_SOURCE.
        loop.execute {
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(0, 5, &parameters)
        }
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

extension ShippingThread {
    /// When a loop that formats a batch last offered its core, in monotonic nanoseconds.
    private static let lastOffer = Atomic<Int64>(0)

    /// Called between the lines of a batch by the loops that read and format them: after about 30 µs of work, lets
    /// whatever else is ready on this core run first (`sched_yield(2)`), and otherwise returns at once.
    ///
    /// `SCHED_IDLE` alone does not keep a burst from holding a core: the kernel makes a waking event loop preempt
    /// this thread, but a thread that was already queued when the core came to pick may find this one picked, and
    /// running to the next tick (4 ms here). Measured at 1 in flight with every sink on: p99 2.0 ms without
    /// yielding, 1.2 ms every 100 µs, 1.1 ms every 30 µs (0.8 ms without shipping); sleeping a microsecond instead
    /// of yielding was worse (2.0 ms).
    package static func offerCore() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nanoseconds = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        guard nanoseconds - lastOffer.load(ordering: .relaxed) > 30_000 else { return }
        lastOffer.store(nanoseconds, ordering: .relaxed)
        sched_yield()
    }
}
