import Synchronization

/// A thread-safe LRU cache with a hard capacity (mitmproxy's CertStore caps minted leaves the same way).
public final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Storage {
        var values: [Key: (value: Value, lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
        var evictions = 0
    }

    private let capacity: Int
    private let storage = Mutex(Storage())

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public func value(for key: Key) -> Value? {
        storage.withLock { storage in
            guard let entry = storage.values[key] else { return nil }
            storage.clock += 1
            storage.values[key] = (entry.value, storage.clock)
            return entry.value
        }
    }

    /// Inserts, evicting the least recently used entry when full (a linear scan, only on a miss at capacity).
    public func insert(_ value: Value, for key: Key) {
        storage.withLock { storage in
            storage.clock += 1
            if storage.values[key] == nil, storage.values.count >= capacity,
                let oldest = storage.values.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                storage.values[oldest] = nil
                storage.evictions += 1
            }
            storage.values[key] = (value, storage.clock)
        }
    }

    public var count: Int { storage.withLock { $0.values.count } }
    public var evictions: Int { storage.withLock { $0.evictions } }
}
