import Foundation
import Glibc

/// Replaces a file so that a crash leaves the old contents or the new, never a torn file: write a hidden
/// temporary beside it (the policy loader skips dot files), flush it to disk, rename it over the target, then
/// flush the directory so the rename itself survives.
enum AtomicFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory as NSString).appendingPathComponent(".\(name).\(UUID().uuidString).tmp")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw Failure(description: "cannot create \(temporary): \(errorText())") }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                let message = errorText()
                close(descriptor)
                unlink(temporary)
                throw Failure(description: "cannot write \(temporary): \(message)")
            }
            offset += written
        }
        bytes.removeAll()
        guard fsync(descriptor) == 0 else {
            let message = errorText()
            close(descriptor)
            unlink(temporary)
            throw Failure(description: "cannot flush \(temporary): \(message)")
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let message = errorText()
            unlink(temporary)
            throw Failure(description: "cannot replace \(path): \(message)")
        }
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func errorText() -> String { String(cString: strerror(errno)) }
}
