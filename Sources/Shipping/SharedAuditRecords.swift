import Foundation
import NIOCore
import Plumbing

/// Audit lines read once for every sink: each sink follows the file with its own reader and position, so without
/// this every line was parsed once per sink (a fifth of the shipping thread's time with four sinks and the alerts).
///
/// A line is known by where it starts in which file (device, inode, offset); a hit must also hold the same bytes,
/// so a reused inode can never hand a sink another file's line. An entry leaves once every sink has taken it, and
/// the oldest leave beyond `capacity`, so a sink that fell behind (an outage) parses its lines again rather than
/// holding the others' in memory.
package final class SharedAuditRecords: Sendable {
    private struct LineKey: Hashable {
        var device: UInt64
        var inode: UInt64
        var offset: Int64
    }

    private struct Entry {
        var record: AuditRecord
        /// Sinks that have not taken it yet.
        var readersLeft: Int
    }

    private struct Cache {
        var entries: [LineKey: Entry] = [:]
        /// Keys in the order they came, for evicting the oldest; keys whose entries are gone leave at the front.
        var order = CircularBuffer<LineKey>()
    }

    private let readers: Int
    private let capacity: Int
    private let cache = Locked(Cache())

    /// `readers`: the sinks that each take every line once.
    package init(readers: Int, capacity: Int = 4_096) {
        self.readers = readers
        self.capacity = capacity
    }

    /// The batch's lines as records, parsed here unless another sink's reader parsed them first.
    package func records(for batch: AuditFollower.Batch) -> [AuditRecord] {
        var records: [AuditRecord] = []
        records.reserveCapacity(batch.lines.count)
        for (line, start) in zip(batch.lines, batch.lineStarts) {
            ShippingThread.offerCore()
            let key = LineKey(device: batch.end.device, inode: batch.end.inode, offset: start)
            if let shared = take(key, line: line) {
                records.append(shared)
            } else {
                let record = AuditRecord(line: line)
                records.append(record)
                keep(record, as: key)
            }
        }
        return records
    }

    /// Number of lines held: for tests.
    var count: Int { cache.withLock { $0.entries.count } }

    private func take(_ key: LineKey, line: Data) -> AuditRecord? {
        cache.withLock { cache -> AuditRecord? in
            guard var entry = cache.entries[key], Self.same(entry.record.line, line) else { return nil }
            entry.readersLeft -= 1
            cache.entries[key] = entry.readersLeft > 0 ? entry : nil
            return entry.record
        }
    }

    private func keep(_ record: AuditRecord, as key: LineKey) {
        guard readers > 1 else { return }
        cache.withLock { cache in
            cache.entries[key] = Entry(record: record, readersLeft: readers - 1)
            cache.order.append(key)
            // Readers take lines in file order, so the front is mostly taken already: popped as it comes up. A
            // line a lagging reader has not taken leaves once the entries (or the keys behind it) exceed capacity.
            while let front = cache.order.first,
                cache.entries[front] == nil || cache.entries.count > capacity || cache.order.count > capacity * 2
            {
                cache.entries[front] = nil
                cache.order.removeFirst()
            }
        }
    }

    private static func same(_ bytes: [UInt8], _ data: Data) -> Bool {
        guard bytes.count == data.count else { return false }
        return bytes.withUnsafeBytes { bytes in
            data.withUnsafeBytes { data in
                guard let left = bytes.baseAddress, let right = data.baseAddress else { return bytes.isEmpty }
                return memcmp(left, right, bytes.count) == 0
            }
        }
    }
}
