#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Publishes a new file all at once, with its permissions set from the moment it exists: the bytes go to a
/// temporary file opened `O_CREAT | O_EXCL` with the final mode, are synced, then hard-linked to the final name,
/// which fails rather than replace an existing file. A reader never sees a partial CA key, and the key is never
/// readable by others, not even for an instant (SPEC 5).
enum ExclusiveFile {
    /// Creates `path` holding `contents`. `mode` is applied at creation, so the process umask may narrow it; with
    /// `exactMode` the mode is then set exactly (for public files such as a certificate, never for a key).
    static func create(_ path: String, contents: [UInt8], mode: mode_t, exactMode: Bool) throws {
        let temporary = "\(path).\(UInt64.random(in: 0...UInt64.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        defer { unlink(temporary) }
        do {
            defer { close(descriptor) }
            if exactMode, fchmod(descriptor, mode) != 0 { throw failure("cannot set the mode of", temporary) }
            try writeAll(descriptor, contents, temporary)
            guard fsync(descriptor) == 0 else { throw failure("cannot sync", temporary) }
        }
        guard link(temporary, path) == 0 else { throw failure("cannot create", path) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], _ path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write", path)
            }
            offset += written
        }
    }

    private static func failure(_ what: String, _ path: String) -> CertificateAuthorityError {
        let reason = String(cString: strerror(errno))
        return CertificateAuthorityError(.cannotWrite, "\(what) \(path): \(reason)", path: path)
    }
}
