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
    /// A hash of the file's first line (`AuditFollower.head`), once it was read: an append-only file keeps it, so a
    /// file with another first line is another file. It tells a file cut and written again (copytruncate), and a new
    /// file given a deleted one's inode, from the file the position was taken in.
    package var head: UInt64?

    package init(device: UInt64, inode: UInt64, offset: Int64, head: UInt64? = nil) {
        self.device = device
        self.inode = inode
        self.offset = offset
        self.head = head
    }
}

/// Reads the audit file (the source of truth) from a position, whole lines at a time, and follows rotation:
/// logrotate renames the file and TenantGate reopens its path, so once the renamed file is read to its end, reading
/// goes on at the start of the next one in rotation order (`audit.jsonl.2`, `.1`, then the path; or the `-DATE`
/// names in order), skipping empty ones, and only once a later file holds lines: until TenantGate reopens its path
/// (logrotate's `create` comes before the signal), lines still reach the renamed file. After a restart, a position
/// in a file that has since been renamed is found again by its inode and its first bytes (`ShipPosition.head`, as an
/// inode may be given to a new file); a position whose file is gone (compressed, deleted) goes on at the oldest
/// rotated file still readable. A file cut and written again (copytruncate) is read again from its start.
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
    /// Files of the rotation read before the current one: what does not follow a current file that has lost its
    /// name. Taken afresh from the rotation order while the current file still has its name, and told by their first
    /// line too: a file compressed away gives its inode to the next one created (ext4 does at once), and the new `.1`
    /// was taken for the file read before it.
    private var readBefore: Set<Fingerprint> = []
    /// The path's file whose older rotated files `readBefore` holds: listed once a file, not at every read's end.
    private var olderListedFor: FileIdentity?

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
        guard var position, descriptor >= 0 else { return Batch(lines: [], end: self.position ?? Self.nowhere) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return Batch(lines: [], end: position) }
        if position.offset > 0 {
            let head = Self.head(of: descriptor, upTo: position.offset)
            if Int64(status.st_size) < position.offset || (position.head != nil && head != position.head) {
                // Cut in place (copytruncate), perhaps grown again since: what is there was written after the cut.
                position.offset = 0
                position.head = nil
            } else {
                position.head = head
            }
            self.position = position
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
        if end.head == nil, end.offset > 0 { end.head = Self.head(of: descriptor, upTo: end.offset) }
        return Batch(lines: lines, lineStarts: lineStarts, end: end, morePending: available > Int64(consumed))
    }

    /// At most how many of a file's first bytes `ShipPosition.head` hashes: its first line, whose correlation ID no
    /// other file's first line has (the first bytes alone, a time and a decision, may be another file's too).
    static let headLength = 4096

    /// The hash of the file's first line (at most `headLength` bytes), once the position is past it: bytes already
    /// read, which an append-only file never changes. Nil before, or when they cannot be read.
    private static func head(of descriptor: CInt, upTo offset: Int64) -> UInt64? {
        var bytes = [UInt8](repeating: 0, count: Int(min(offset, Int64(headLength))))
        guard !bytes.isEmpty, pread(descriptor, &bytes, bytes.count, 0) == bytes.count else { return nil }
        let line = bytes.firstIndex(of: UInt8(ascii: "\n")).map { bytes[...$0] } ?? bytes[...]
        // A first line longer than what was read so far is not one yet.
        guard line.last == UInt8(ascii: "\n") || line.count == headLength else { return nil }
        // FNV-1a: no secret to keep, only a file to tell from another.
        return line.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }

    /// The acknowledged position: the next read starts here.
    package func commit(_ end: ShipPosition) {
        position = end
    }

    /// Where the last read started (the file it was in, after any move to the next one).
    package var startPosition: ShipPosition? { position }

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
        let opened = open(path, Self.readOnly)
        guard opened >= 0 else {
            guard errno == ENOENT else {
                throw FollowerError("cannot open \(path): \(String(cString: strerror(errno)))")
            }
            return  // not written yet
        }
        var status = stat()
        guard fstat(opened, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(opened)
            throw FollowerError("cannot follow \(path): it is not a regular file")
        }
        let identity = FileIdentity(status)
        guard let position else {
            descriptor = opened
            self.position = identity.start
            return
        }
        if FileIdentity(position) == identity, Self.holds(position, opened) {
            descriptor = opened
            return
        }
        // The position is in a file that has been renamed since: finish it first, if it is still there.
        if let renamed = renamedFile(FileIdentity(position)),
            let reopened = Self.openFile(renamed)
        {
            if Self.holds(position, reopened.descriptor) {
                close(opened)
                descriptor = reopened.descriptor
                return
            }
            close(reopened.descriptor)
        }
        // Gone (compressed, deleted): the rotated files left are newer than it, so the oldest goes first.
        if let oldest = rotatedFiles().first, let reopened = Self.openFile(oldest) {
            close(opened)
            descriptor = reopened.descriptor
            self.position = reopened.identity.start
            return
        }
        descriptor = opened
        self.position = identity.start
    }

    /// Whether the file open as `descriptor` is the one `position` was taken in: it begins with the same bytes (an
    /// inode may have been given to a new file since).
    private static func holds(_ position: ShipPosition, _ descriptor: CInt) -> Bool {
        guard position.offset > 0, let expected = position.head else { return true }
        return head(of: descriptor, upTo: position.offset) == expected
    }

    /// Never waits: a FIFO put at a followed path waits for a writer when opened blocking, and held the shipper.
    private static let readOnly = O_RDONLY | O_CLOEXEC | O_NONBLOCK

    private static func openFile(_ path: String) -> (descriptor: CInt, identity: FileIdentity)? {
        let descriptor = open(path, readOnly)
        guard descriptor >= 0 else { return nil }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            close(descriptor)
            return nil
        }
        return (descriptor, FileIdentity(status))
    }

    /// The current file was read to its end (but for `tornTail` bytes without a newline); when it is no longer the
    /// path's file (rotation), reading moves to the next file in rotation order that holds lines. Not before one
    /// does: until TenantGate reopens its path, it still writes to the renamed file, and a later file holding lines
    /// says it has stopped (it writes one file at a time), so the renamed file's size is then final.
    private func moveToRotatedSuccessor(tornTail: Int) throws -> Bool {
        var status = stat()
        guard stat(path, &status) == 0, let position else { return false }
        let currentKey = FileIdentity(position)
        guard FileIdentity(status) != currentKey else {
            // Reading the path's file: every rotated file is older, read before it (once for each path's file).
            if olderListedFor != currentKey {
                olderListedFor = currentKey
                readBefore = Set(rotatedFiles().compactMap(Self.fingerprint(of:)))
            }
            return false
        }
        let order = rotatedFiles() + [path]
        let current = order.firstIndex { Self.identity(of: $0) == currentKey }
        if let current { readBefore = Set(order[..<current].compactMap(Self.fingerprint(of:))) }
        // A current file that has lost its name (logrotate's `compress` with `delaycompress` took it while it was read)
        // is followed by every file of the rotation not read before it: reading went on at the path and skipped `.1`,
        // 300 of 1,000 lines in a sink outage over two rotations (review 47 F2). Not by modification time: a clock
        // set back, or files restored with their times, skipped it again (review 48 F2).
        // The path's file is always the newest, whatever inode it was given.
        let later =
            current.map { Array(order[(order.index(after: $0))...]) }
            ?? order.dropLast().filter { name in
                Self.fingerprint(of: name).map { $0.identity != currentKey && !readBefore.contains($0) } ?? false
            } + [path]
        guard let next = later.first(where: { Self.size(of: $0) > 0 }), let opened = Self.openFile(next) else {
            return false
        }
        var final = stat()
        guard fstat(descriptor, &final) == 0, Int64(final.st_size) <= position.offset + Int64(tornTail) else {
            close(opened.descriptor)
            return false
        }
        readBefore.insert(
            Fingerprint(identity: currentKey, head: Self.head(of: descriptor, upTo: Int64(final.st_size)))
        )
        close(descriptor)
        descriptor = opened.descriptor
        self.position = opened.identity.start
        return true
    }

    /// The directory's rotated audit files that can be read as lines, oldest first: `audit.jsonl.N` from the highest
    /// N, or `audit.jsonl-DATE…` (logrotate's `dateext`) in name order. Compressed ones (`.gz`, …) are not lines.
    private func rotatedFiles() -> [String] {
        let directory = (path as NSString).deletingLastPathComponent
        let base = directory.isEmpty ? "." : directory
        let name = (path as NSString).lastPathComponent
        var numbered: [(Int, String)] = []
        var dated: [String] = []
        for candidate in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] {
            guard candidate.count > name.count + 1, candidate.hasPrefix(name) else { continue }
            let suffix = candidate.dropFirst(name.count)
            let full = base + "/" + candidate
            if suffix.first == ".", let number = Int(suffix.dropFirst()), number >= 0 {
                numbered.append((number, full))
            } else if suffix.first == "-", suffix.dropFirst().allSatisfy({ $0.isNumber || $0 == "-" || $0 == "_" }) {
                dated.append(full)
            }
        }
        return numbered.sorted { $0.0 > $1.0 }.map(\.1) + dated.sorted()
    }

    private static func identity(of path: String) -> FileIdentity? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return FileIdentity(status)
    }

    private static func fingerprint(of path: String) -> Fingerprint? {
        guard let opened = openFile(path) else { return nil }
        defer { close(opened.descriptor) }
        var status = stat()
        guard fstat(opened.descriptor, &status) == 0 else { return nil }
        return Fingerprint(identity: opened.identity, head: head(of: opened.descriptor, upTo: Int64(status.st_size)))
    }

    private static func size(of path: String) -> Int64 {
        var status = stat()
        return stat(path, &status) == 0 ? Int64(status.st_size) : 0
    }

    /// A file in the audit file's directory with this identity: where logrotate renamed it to.
    private func renamedFile(_ identity: FileIdentity) -> String? {
        let directory = (path as NSString).deletingLastPathComponent
        let base = directory.isEmpty ? "." : directory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names {
            let candidate = base + "/" + name
            var status = stat()
            if stat(candidate, &status) == 0, FileIdentity(status) == identity {
                return candidate
            }
        }
        return nil
    }
}

/// A file whatever its name: its device and inode.
private struct FileIdentity: Hashable {
    let device: UInt64
    let inode: UInt64

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
    }

    init(_ position: ShipPosition) {
        device = position.device
        inode = position.inode
    }

    /// A position at the file's start.
    var start: ShipPosition { ShipPosition(device: device, inode: inode, offset: 0) }
}

/// A file and its first line: an inode given to a new file is told from the file that had it.
private struct Fingerprint: Hashable {
    let identity: FileIdentity
    /// `AuditFollower.head`'s hash of its first line; nil while it has none.
    let head: UInt64?
}

package struct FollowerError: Error, CustomStringConvertible {
    package let description: String

    init(_ description: String) {
        self.description = description
    }
}
