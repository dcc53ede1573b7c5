#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a crash leaves the old contents or the new, never a torn file, and a file's permissions
/// hold from the moment it exists (SPEC 5). One implementation for every file TenantGate writes whole: the
/// policies the admin API edits and the CA it creates.
///
/// The bytes always go to a temporary file beside the target, opened `O_CREAT | O_EXCL | O_NOFOLLOW` with the
/// final mode, and are synced before the temporary takes the target's name.
package enum DurableFile {
    /// Replaces `path` (or creates it): the temporary is hidden (a dot file, which the policy loader skips), renamed
    /// over the target, then the directory is synced so the rename itself survives.
    package static func replace(_ path: String, contents: [UInt8], mode: mode_t = 0o644) throws(DurableFileError) {
        let (directory, name) = split(path)
        let temporary = join(directory, ".\(name).\(UInt64.random(in: 0...UInt64.max)).tmp")
        try writeTemporary(temporary, contents: contents, mode: mode, exactMode: false)
        guard rename(temporary, path) == 0 else {
            let failure = DurableFileError.current("cannot replace", path)
            unlink(temporary)
            throw failure
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// Creates `path`, failing rather than replacing an existing file: the temporary is hard-linked to the final
    /// name. `mode` is applied at creation, so the umask may narrow it; with `exactMode` the mode is then set
    /// exactly (for package files such as a certificate, never for a key).
    package static func createExclusively(
        _ path: String,
        contents: [UInt8],
        mode: mode_t,
        exactMode: Bool
    ) throws(DurableFileError) {
        let temporary = "\(path).\(UInt64.random(in: 0...UInt64.max)).tmp"
        try writeTemporary(temporary, contents: contents, mode: mode, exactMode: exactMode)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else { throw .current("cannot create", path) }
    }

    private static func writeTemporary(
        _ temporary: String,
        contents: [UInt8],
        mode: mode_t,
        exactMode: Bool
    ) throws(DurableFileError) {
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw .current("cannot create", temporary) }
        var failure: DurableFileError?
        if exactMode, fchmod(descriptor, mode) != 0 {
            failure = .current("cannot set the mode of", temporary)
        } else if let unwritten = writeAll(descriptor, contents, temporary) {
            failure = unwritten
        } else if fsync(descriptor) != 0 {
            failure = .current("cannot sync", temporary)
        }
        close(descriptor)
        if let failure {
            unlink(temporary)
            throw failure
        }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], _ path: String) -> DurableFileError? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return .current("cannot write", path)
            }
            offset += written
        }
        return nil
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = path[..<slash]
        return (directory.isEmpty ? "/" : String(directory), String(path[path.index(after: slash)...]))
    }

    private static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : "\(directory)/\(name)"
    }
}

/// A file that could not be written, with the path and the system's reason.
package struct DurableFileError: Error, CustomStringConvertible {
    package let path: String
    package let description: String

    /// From `errno`, right after the failing call.
    static func current(_ what: String, _ path: String) -> DurableFileError {
        DurableFileError(path: path, description: "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
