import Foundation

/// A value behind a lock: `withLock` hands the closure the value to read or change, and nobody else meanwhile.
///
/// A pthread mutex underneath (Foundation's `NSLock`), not `Synchronization.Mutex`: Swift 6.3's `Mutex` locks with a
/// futex on Linux, which ThreadSanitizer cannot see, so every access under it was reported as a race.
package final class Locked<Value> {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) {
        self.value = value
    }

    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

extension Locked: @unchecked Sendable where Value: Sendable {}
