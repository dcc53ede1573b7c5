#if canImport(Glibc)
import Glibc
#endif

/// Hands memory the process has freed back to the system.
///
/// glibc keeps freed pages inside its arenas (one per thread that allocated), and raises its mmap threshold once a
/// large block is freed, so that later large blocks come from the arenas too: after a policy set is parsed on every
/// core, or replaced, the old set's pages would stay in the resident size for the life of the process. Called after
/// those rare events only: a trim walks every arena. `malloc_trim` is glibc's own (no header Swift imports declares
/// it), so it is looked up by name, and elsewhere this does nothing.
package enum FreedMemory {
    package static func release() {
        #if canImport(Glibc)
        trim?(0)
        #endif
    }

    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map {
        unsafeBitCast($0, to: Trim.self)
    }
    #endif
}
