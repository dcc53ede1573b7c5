import Caching
import Testing

/// The leaf cache keeps at most `capacity` entries and evicts the least recently used one.
struct BoundedCacheTests {
    @Test func evictsTheLeastRecentlyUsedAtCapacity() {
        let cache = BoundedCache<String, Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        #expect(cache.value(for: "a") == 1)
        cache.insert(3, for: "c")
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1)
        #expect(cache.value(for: "c") == 3)
        #expect(cache.count == 2)
        #expect(cache.evictions == 1)
        cache.insert(4, for: "d")
        #expect(cache.value(for: "a") == nil)
        #expect(cache.evictions == 2)
    }

    @Test func replacingAValueNeitherGrowsNorEvicts() {
        let cache = BoundedCache<String, Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        cache.insert(10, for: "a")
        #expect(cache.count == 2)
        #expect(cache.evictions == 0)
        #expect(cache.value(for: "a") == 10)
        cache.insert(3, for: "c")
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 10)
    }

    @Test func capacityIsAtLeastOne() {
        let cache = BoundedCache<Int, Int>(capacity: 0)
        #expect(cache.capacity == 1)
        cache.insert(1, for: 1)
        cache.insert(2, for: 2)
        #expect(cache.count == 1)
        #expect(cache.value(for: 2) == 2)
        #expect(cache.value(for: 1) == nil)
    }

    @Test func holdsItsBoundUnderConcurrentUse() async {
        let cache = BoundedCache<Int, Int>(capacity: 16)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for step in 0..<2_000 {
                        let key = (worker * 7 + step) % 64
                        if let value = cache.value(for: key) {
                            #expect(value == key * 2)
                        } else {
                            cache.insert(key * 2, for: key)
                        }
                    }
                }
            }
        }
        #expect(cache.count == 16)
        #expect(cache.evictions > 0)
        var present = 0
        for key in 0..<64 where cache.value(for: key) != nil { present += 1 }
        #expect(present == 16)
    }
}
