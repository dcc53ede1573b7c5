import Foundation
import Synchronization

extension UUID {
    /// A fresh version 4 UUID, without a system call.
    ///
    /// Foundation's `UUID()` opens, reads and closes `/dev/urandom` on Linux: three system calls on every exchange,
    /// visible in `strace -c` under load. Correlation IDs need to be unique and unguessable across runs, not secret:
    /// a per-process random key from the system generator, and a counter run through a bijective mixer
    /// (SplitMix64's finaliser), give distinct IDs within a process and unrelated ones across processes.
    package static func random() -> UUID {
        let count = CorrelationIDSource.counter.add(1, ordering: .relaxed).newValue
        let key = CorrelationIDSource.key
        var words = (CorrelationIDSource.mix(count &+ key.0), CorrelationIDSource.mix(count ^ key.1))
        return withUnsafeMutableBytes(of: &words) { raw in
            raw[6] = raw[6] & 0x0F | 0x40  // version 4
            raw[8] = raw[8] & 0x3F | 0x80  // RFC 4122 variant
            return UUID(uuid: raw.load(as: uuid_t.self))
        }
    }
}

private enum CorrelationIDSource {
    static let key: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next(), generator.next())
    }()
    static let counter = Atomic<UInt64>(0)

    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
