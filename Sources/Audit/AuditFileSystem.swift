import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed, with its `errno`.
struct SystemCallError: Error, Sendable, Equatable {
    let code: Int32

    /// `strerror`'s sentence, e.g. "No space left on device"; what ENXIO and ETIMEDOUT mean for the audit log,
    /// which their sentences do not say.
    var sentence: String {
        switch code {
        case ENXIO: "a pipe (FIFO) that nobody reads"
        case ENOTSOCK: "a socket, which cannot be opened by its name (give a file or a pipe)"
        case ETIMEDOUT: "its reader took nothing for \(SystemFileSystem.readerStallLimit / 1000) s"
        default: String(cString: strerror(code))
        }
    }
}

/// Names a file independently of its descriptors (device and inode), so a reopen can tell whether it found the same
/// file again or a new one that rotation created.
struct FileIdentity: Sendable, Hashable {
    let device: UInt64
    let inode: UInt64

    init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }

    /// The identity `stat(2)` or `fstat(2)` reported.
    init(_ info: stat) {
        self.init(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// The system calls the audit log makes on its file.
///
/// It exists so that tests can stand between the log and the kernel: run out of space part-way through a write,
/// recover, refuse a reopen, and count syncs, with a real file underneath. Production uses `SystemFileSystem`.
protocol AuditFileSystem: Sendable {
    /// Opens `path` for appending, creating it with mode 0640.
    func open(_ path: String) -> Result<Int32, SystemCallError>
    /// One `write(2)`: how many bytes went in (possibly fewer than given), or the error.
    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemCallError>
    /// `fdatasync(2)`.
    func dataSync(_ descriptor: Int32) -> Result<Void, SystemCallError>
    /// The file `descriptor` refers to, or nil when `fstat` fails.
    func identity(_ descriptor: Int32) -> FileIdentity?
    func close(_ descriptor: Int32)
    /// Whether `.always` may keep a write-ahead journal beside the log (`AuditJournal`) instead of syncing the log.
    /// Only the kernel's calls do: a journal's direct writes go around the failures tests inject here.
    var keepsJournal: Bool { get }
}

extension AuditFileSystem {
    var keepsJournal: Bool { false }

    /// How many bytes of an unfinished line end the regular file `descriptor` refers to (0 when it ends with a
    /// newline, is empty, or is no regular file), read through `/proc/self/fd` as the descriptor only writes. A
    /// fragment a crash, a full disk or another writer left before this process opened the file would otherwise
    /// have the next line glued to it, and a reader drop both (review 59 F1).
    func unterminatedTail(_ descriptor: Int32) -> Int {
        let reader = Glibc.open("/proc/self/fd/\(descriptor)", O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard reader >= 0 else { return 0 }
        defer { _ = Glibc.close(reader) }
        var info = stat()
        guard fstat(reader, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size > 0 else { return 0 }
        // A line is far shorter than this: a fragment without a newline in it is counted as this long.
        let window = Int(min(info.st_size, 65_536))
        var tail = [UInt8](repeating: 0, count: window)
        let read = tail.withUnsafeMutableBytes {
            pread(reader, $0.baseAddress, window, off_t(info.st_size) - off_t(window))
        }
        guard read == window else { return 0 }
        guard let newline = tail.lastIndex(of: UInt8(ascii: "\n")) else { return window }
        return window - newline - 1
    }
}

/// The kernel's calls, with two bounds on waiting for another process's reader.
struct SystemFileSystem: AuditFileSystem {
    var keepsJournal: Bool { true }

    /// How long a write waits for the reader of a pipe or socket to take something, before it fails as a full
    /// disk does (503): a reader that stopped reading (a stalled log collector, a FIFO an attacker put at the path
    /// and never reads) left every exchange waiting without an answer, and a SIGHUP's reopen behind them (review
    /// 38 F1).
    static let readerStallLimit: Int32 = 2_000
    /// Descriptors whose reader let a write time out: later writes fail at once until one gets through, so that
    /// exchanges queued behind the log do not each wait the whole limit in turn.
    private let stalled = StalledDescriptors()

    /// Never waits: opening a FIFO for writing waits for a reader, and one put at the path with nobody reading it
    /// held the SIGHUP that reopened the log, and every later SIGHUP (policy and CA reloads) behind it, for ever
    /// (review 37 F1). Such a FIFO fails with ENXIO instead. A regular file is written blocking, as a sync must; a
    /// pipe or socket stays non-blocking, so that `write` can bound its wait.
    func open(_ path: String) -> Result<Int32, SystemCallError> {
        let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0o640)
        guard descriptor >= 0 else {
            let code = errno
            // ENXIO says either; the sentence names the one it is.
            var info = stat()
            let socket = code == ENXIO && stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFSOCK
            return .failure(SystemCallError(code: socket ? ENOTSOCK : code))
        }
        stalled.forget(descriptor)
        guard isRegularFile(descriptor) else { return .success(descriptor) }
        let flags = fcntl(descriptor, F_GETFL)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
            let failure = SystemCallError(code: errno)
            _ = Glibc.close(descriptor)
            return .failure(failure)
        }
        return .success(descriptor)
    }

    func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Result<Int, SystemCallError> {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .success(0) }
        while true {
            let count = Glibc.write(descriptor, base, bytes.count)
            if count >= 0 {
                stalled.forget(descriptor)
                return .success(count)
            }
            let code = errno
            guard code == EAGAIN || code == EWOULDBLOCK else { return .failure(SystemCallError(code: code)) }
            var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let wait = stalled.contains(descriptor) ? 0 : Self.readerStallLimit
            if poll(&ready, 1, wait) <= 0 {
                stalled.remember(descriptor)
                return .failure(SystemCallError(code: ETIMEDOUT))
            }
        }
    }

    func dataSync(_ descriptor: Int32) -> Result<Void, SystemCallError> {
        if fdatasync(descriptor) == 0 { return .success(()) }
        let code = errno
        // A pipe, socket or terminal (`--audit-log /dev/stdout` under a container's log collector) has no disk to
        // sync: a line is with its reader once written. Only a regular file's failed sync is a failure.
        if code == EINVAL, !isRegularFile(descriptor) { return .success(()) }
        return .failure(SystemCallError(code: code))
    }

    private func isRegularFile(_ descriptor: Int32) -> Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    func identity(_ descriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(info)
    }

    func close(_ descriptor: Int32) {
        stalled.forget(descriptor)
        _ = Glibc.close(descriptor)
    }
}

/// The descriptor whose reader stopped taking lines, if any: the log writes one descriptor at a time. An atomic, not
/// a lock, as every write of every exchange clears it.
private final class StalledDescriptors: Sendable {
    private let stalled = Atomic<Int32>(-1)

    func contains(_ descriptor: Int32) -> Bool { stalled.load(ordering: .relaxed) == descriptor }
    func remember(_ descriptor: Int32) { stalled.store(descriptor, ordering: .relaxed) }
    func forget(_ descriptor: Int32) {
        _ = stalled.compareExchange(expected: descriptor, desired: -1, ordering: .relaxed)
    }
}
