import Plumbing

/// A thread-safe least-recently-used cache with a hard capacity, so minted leaves and their TLS contexts cannot
/// grow without bound (mitmproxy's `CertStore` caps its leaves the same way; SPEC 5 "every buffer has a limit").
///
/// A lookup is one dictionary probe and a few index writes under the lock; an insert at capacity evicts the least
/// recently used entry in constant time. Entries live in fixed slots linked most to least recently used.
package final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The entries and their use order; only touched under the lock.
    private struct Storage {
        /// One occupied slot: its key and value, and its neighbours in use order (`-1` = none).
        struct Slot {
            var key: Key
            var value: Value
            var newer: Int
            var older: Int
        }

        var slots: [Slot] = []
        var index: [Key: Int] = [:]
        /// The most recently used slot, or `-1` when empty.
        var newest = -1
        /// The least recently used slot, or `-1` when empty.
        var oldest = -1
        var evictions = 0

        mutating func unlink(_ slot: Int) {
            let newer = slots[slot].newer
            let older = slots[slot].older
            if newer >= 0 { slots[newer].older = older } else { newest = older }
            if older >= 0 { slots[older].newer = newer } else { oldest = newer }
        }

        mutating func makeNewest(_ slot: Int) {
            slots[slot].newer = -1
            slots[slot].older = newest
            if newest >= 0 { slots[newest].newer = slot }
            newest = slot
            if oldest < 0 { oldest = slot }
        }

        mutating func touch(_ slot: Int) {
            guard slot != newest else { return }
            unlink(slot)
            makeNewest(slot)
        }
    }

    /// The most entries the cache holds at once (at least 1).
    package let capacity: Int
    private let storage: Locked<Storage>

    package init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.storage = Locked(Storage())
    }

    /// The cached value, which becomes the most recently used; nil on a miss.
    package func value(for key: Key) -> Value? {
        storage.withLock { storage in
            guard let slot = storage.index[key] else { return nil }
            storage.touch(slot)
            return storage.slots[slot].value
        }
    }

    /// Stores `value` as the most recently used entry, replacing the key's old value or, when full, evicting the
    /// least recently used entry.
    package func insert(_ value: Value, for key: Key) {
        storage.withLock { storage in
            if let slot = storage.index[key] {
                storage.slots[slot].value = value
                storage.touch(slot)
                return
            }
            if storage.slots.count < capacity {
                storage.slots.append(Storage.Slot(key: key, value: value, newer: -1, older: -1))
                let slot = storage.slots.count - 1
                storage.index[key] = slot
                storage.makeNewest(slot)
                return
            }
            let victim = storage.oldest
            storage.unlink(victim)
            storage.index[storage.slots[victim].key] = nil
            storage.evictions += 1
            storage.slots[victim].key = key
            storage.slots[victim].value = value
            storage.index[key] = victim
            storage.makeNewest(victim)
        }
    }

    /// How many entries the cache holds.
    package var count: Int { storage.withLock { $0.index.count } }

    /// How many entries were evicted to make room since the cache was made.
    package var evictions: Int { storage.withLock { $0.evictions } }
}
