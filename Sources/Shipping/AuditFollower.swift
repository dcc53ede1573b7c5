import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a sink's shipping stands in the audit file: the file (device and inode, which a rename keeps) and the
/// offset after the last line the sink acknowledged.
package struct ShipPosition: Codable, Equatable, Sendable {
    package var device: UInt64
    package var inode: UInt64
    package var offset: Int64
}

/// Reads the audit file (the source of truth) from a position, whole lines at a time, and follows rotation:
/// logrotate renames the file and TenantGate reopens its path, so once the renamed file is read to its end, reading
/// goes on at the start of the next one: the oldest rotated file written after it (`audit.jsonl.1` once two rotations
/// passed during a sink's outage), else the path's. After a restart, a position in a file that has since been renamed
/// is found again by its inode among the directory's files, so nothing written before a rotation is skipped. A file
/// cut shorter than the position (logrotate's `copytruncate`) is read again from its start.
///
/// Blocking file I/O: run it off the event loops.
package final class AuditFollower {
    /// One read's lines and where reading stands after them.
    package struct Batch {
        package var lines: [Data]
        /// Where each line starts in the file `end` names: with that file, a line's identity across readers.
        package var lineStarts: [Int64] = []
        package var end: ShipPosition
        /// Whether more was already written beyond `end` when it was read: the next read need not wait.
        package var morePending = false
    }

    private let path: String
    private var descriptor: CInt = -1
    private var position: ShipPosition?

    package init(path: String, position: ShipPosition?) {
        self.path = path
        self.position = position
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Up to `maxLines` whole lines (at most about `maxBytes`) after the position, without moving it: the caller
    /// commits `end` once a sink has acknowledged them. An empty batch means there is nothing new.
    package func read(maxLines: Int, maxBytes: Int) throws -> Batch {
        try openIfNeeded()
        guard let position, descriptor >= 0 else { return Batch(lines: [], end: self.position ?? Self.nowhere) }
        // Only what is there, uninitialised: a buffer of `maxBytes` zeroed for every read cost more than the lines.
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return Batch(lines: [], end: position) }
        if Int64(status.st_size) < position.offset {
            // Cut in place (copytruncate): what is there now was written after the cut.
            self.position?.offset = 0
            return try read(maxLines: maxLines, maxBytes: maxBytes)
        }
        let available = Int64(status.st_size) - position.offset
        let wanted = Int(min(Int64(maxBytes), available))
        // In pieces, offering the core between them: a megabyte copied in one call held it for a tenth of a
        // millisecond, and the proxy's threads may be waiting for it.
        let chunk = try [UInt8](unsafeUninitializedCapacity: wanted) { buffer, initialized in
            guard let base = buffer.baseAddress else { return }
            while initialized < wanted {
                let piece = min(wanted - initialized, Self.readPiece)
                let count = pread(descriptor, base + initialized, piece, off_t(position.offset) + off_t(initialized))
                guard count >= 0 else {
                    throw FollowerError("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                initialized += count
                if count < piece { break }
                ShippingThread.offerCore()
            }
        }
        let count = chunk.count
        var lines: [Data] = []
        var lineStarts: [Int64] = []
        var consumed = 0
        chunk.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            while lines.count < maxLines, start < count,
                let found = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start)
            {
                let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if end > start {
                    ShippingThread.offerCore()
                    lines.append(Data(UnsafeBufferPointer(rebasing: bytes[start..<end])))
                    lineStarts.append(position.offset + Int64(start))
                }
                start = end + 1
                consumed = start
            }
        }
        // A line longer than the whole chunk is not a line TenantGate writes: it goes as it is, so it cannot stall
        // shipping.
        if consumed == 0, count == maxBytes {
            lines.append(Data(chunk[0..<count]))
            lineStarts.append(position.offset)
            consumed = count
        }
        // Nothing whole is left here: once the file has been renamed and TenantGate writes to a new one, what
        // remains is a torn line's start, which no sync acknowledged.
        if consumed == 0, try moveToRotatedSuccessor(tornTail: count) {
            return try read(maxLines: maxLines, maxBytes: maxBytes)
        }
        var end = position
        end.offset += Int64(consumed)
        return Batch(lines: lines, lineStarts: lineStarts, end: end, morePending: available > Int64(consumed))
    }

    /// The acknowledged position: the next read starts here.
    package func commit(_ end: ShipPosition) {
        position = end
    }

    /// Bytes written to the audit file that are not yet acknowledged (the current file's rest, and a newer file's
    /// whole length once the current one has been renamed).
    package func backlogBytes() -> Int64 {
        guard let position else { return 0 }
        var rest: Int64 = 0
        var status = stat()
        if descriptor >= 0, fstat(descriptor, &status) == 0 { rest = max(0, Int64(status.st_size) - position.offset) }
        if stat(path, &status) == 0, UInt64(status.st_ino) != position.inode {
            rest += Int64(status.st_size)
        }
        return rest
    }

    private static let nowhere = ShipPosition(device: 0, inode: 0, offset: 0)
    private static let readPiece = 128 << 10

    /// Opens the file the position names (the path, or the renamed file with its inode), or the path from its
    /// start when there is no position yet.
    private func openIfNeeded() throws {
        guard descriptor < 0 else { return }
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else {
            guard errno == ENOENT else {
                throw FollowerError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            return  // not written yet
        }
        var status = stat()
        fstat(opened, &status)
        let identity = (UInt64(status.st_dev), UInt64(status.st_ino))
        guard let position, (position.device, position.inode) != identity else {
            descriptor = opened
            if position == nil { position = ShipPosition(device: identity.0, inode: identity.1, offset: 0) }
            return
        }
        // The position is in a file that has been renamed since: finish it first, if it is still there.
        if let renamed = renamedFile(device: position.device, inode: position.inode) {
            close(opened)
            descriptor = open(renamed, O_RDONLY | O_CLOEXEC)
            if descriptor >= 0 { return }
        }
        descriptor = opened
        self.position = ShipPosition(device: identity.0, inode: identity.1, offset: 0)
    }

    /// The current file was read to its end (but for `tornTail` bytes without a newline); when the path now names
    /// another file (rotation), reading moves to the next file in rotation order.
    private func moveToRotatedSuccessor(tornTail: Int) throws -> Bool {
        var status = stat()
        guard stat(path, &status) == 0, let position,
            (UInt64(status.st_dev), UInt64(status.st_ino)) != (position.device, position.inode)
        else { return false }
        // Lines may still have reached the renamed file before TenantGate reopened its path.
        var current = stat()
        guard descriptor >= 0, fstat(descriptor, &current) == 0 else { return false }
        if Int64(current.st_size) > position.offset + Int64(tornTail) { return false }
        let next = rotatedSuccessor(of: current) ?? (path, status)
        close(descriptor)
        descriptor = open(next.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        self.position = ShipPosition(device: UInt64(next.status.st_dev), inode: UInt64(next.status.st_ino), offset: 0)
        return true
    }

    /// The rotated file written next after `current`: of the directory's `audit.jsonl.N` and `audit.jsonl-DATE`
    /// files (not compressed ones), the one last modified earliest but after `current`. Nil: none is, the path's
    /// file is next.
    private func rotatedSuccessor(of current: stat) -> (path: String, status: stat)? {
        let directory = (path as NSString).deletingLastPathComponent
        let base = directory.isEmpty ? "." : directory
        let name = (path as NSString).lastPathComponent
        let rotationMarks = Set("0123456789.-_".utf8)
        var best: (path: String, status: stat)?
        for candidate in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            guard candidate.count > name.count + 1, candidate.hasPrefix(name),
                let separator = candidate.utf8.dropFirst(name.utf8.count).first, separator == 0x2E || separator == 0x2D,
                candidate.utf8.dropFirst(name.utf8.count).allSatisfy(rotationMarks.contains)
            else { continue }
            var status = stat()
            let full = base + "/" + candidate
            guard stat(full, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG,
                (status.st_dev, status.st_ino) != (current.st_dev, current.st_ino),
                Self.isLater(status.st_mtim, than: current.st_mtim)
            else { continue }
            if let earliest = best, !Self.isLater(earliest.status.st_mtim, than: status.st_mtim) { continue }
            best = (full, status)
        }
        return best
    }

    private static func isLater(_ first: timespec, than second: timespec) -> Bool {
        (first.tv_sec, first.tv_nsec) > (second.tv_sec, second.tv_nsec)
    }

    /// A file in the audit file's directory with this identity: where logrotate renamed it to.
    private func renamedFile(device: UInt64, inode: UInt64) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        let base = directory.isEmpty ? "." : directory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names {
            let candidate = base + "/" + name
            var status = stat()
            if stat(candidate, &status) == 0, UInt64(status.st_dev) == device, UInt64(status.st_ino) == inode {
                return candidate
            }
        }
        return nil
    }
}

package struct FollowerError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
