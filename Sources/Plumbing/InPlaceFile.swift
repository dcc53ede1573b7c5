#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the files TenantGate keeps open and writes over in place (the audit journal, a shipping position), which
/// live in directories others may write in. Such a file is used only when its name is its own: not a symbolic link
/// (never followed), a regular file, with one name (a hard link would let its writes land in another file), and
/// where asked, owned by this process's user (a file someone else made is not read as ours).
package enum InPlaceFile {
    package enum Refusal: Error, Equatable {
        /// The name does not stand for a file of our own.
        case untrusted(String)
        /// `open(2)` or `fstat(2)` failed with this `errno`.
        case failed(Int32)

        package var sentence: String {
            switch self {
            case .untrusted(let reason): reason
            case .failed(let code): String(cString: strerror(code))
            }
        }
    }

    /// Opens `path` with `flags` (plus `O_CREAT | O_NOFOLLOW | O_CLOEXEC`), creating it with `mode`; the descriptor,
    /// or why the file is not used (closed again then).
    package static func open(
        _ path: String,
        flags: Int32,
        mode: mode_t,
        mustBeOwnedByThisUser: Bool
    ) -> Result<Int32, Refusal> {
        let descriptor = Glibc.open(path, flags | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            return .failure(errno == ELOOP ? .untrusted("it is a symbolic link") : .failed(errno))
        }
        var info = stat()
        let refusal: Refusal? =
            if fstat(descriptor, &info) != 0 {
                .failed(errno)
            } else if info.st_mode & S_IFMT != S_IFREG {
                .untrusted("it is not a regular file")
            } else if info.st_nlink != 1 {
                .untrusted("it has \(info.st_nlink) names (hard links)")
            } else if mustBeOwnedByThisUser, info.st_uid != geteuid() {
                .untrusted("it belongs to user \(info.st_uid), not to this process's user \(geteuid())")
            } else {
                nil
            }
        guard let refusal else { return .success(descriptor) }
        _ = close(descriptor)
        return .failure(refusal)
    }
}
