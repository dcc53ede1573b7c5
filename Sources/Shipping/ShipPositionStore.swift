import Foundation
import Plumbing

#if canImport(Glibc)
import Glibc
#endif

/// Each sink's acknowledged position, one small file per sink in `--ship-state DIR`.
package struct ShipPositionStore: Sendable {
    package let directory: String

    package init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
    }

    /// The sink's position file, opened (and made) once for the sink's whole run.
    package func file(sink: String) throws -> ShipPositionFile {
        try ShipPositionFile(path: "\(directory)/\(sink).position.json")
    }
}

/// One sink's position: a JSON object padded to a fixed length and overwritten in place at every acknowledged
/// batch, so saving is one `pwrite(2)` into the page cache, and the file is never shorter or torn across sectors.
///
/// A kill -9 keeps the last write (the page cache outlives the process): at most the unacknowledged batch is sent
/// again. The write reaches the disk with an `fdatasync` at most once per `syncInterval`, so a power cut sends again
/// what was acknowledged in about that interval, never skips a line. A sync per batch, with its rename and directory
/// sync, was three disk writes and a flush per batch per sink, and they queued in front of the audit log's own
/// `fdatasync`, which every answer waits for.
/// Only its sink's shipping loop uses it, one call at a time.
package final class ShipPositionFile: @unchecked Sendable {
    private static let recordLength = 128
    private let path: String
    private let descriptor: CInt
    private let syncInterval: Duration
    private var lastSync: ContinuousClock.Instant?

    init(path: String, syncInterval: Duration = .seconds(1)) throws {
        self.path = path
        self.syncInterval = syncInterval
        // Written over and cut to one record: a link put in its place would have the shipper cut another file.
        switch InPlaceFile.open(path, flags: O_RDWR, mode: 0o600, mustBeOwnedByThisUser: false) {
        case .success(let opened): descriptor = opened
        case .failure(let refusal):
            throw FollowerError("cannot use \(path) to keep the shipping position: \(refusal.sentence)")
        }
    }

    deinit {
        close(descriptor)
    }

    /// The saved position; nil when there is none, or when it cannot be read (shipping then starts over: lines are
    /// sent again, none is skipped).
    package func load() -> ShipPosition? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0, let position = try? JSONDecoder().decode(ShipPosition.self, from: Data(bytes[0..<count])),
            position.offset >= 0
        else { return nil }
        return position
    }

    package func save(_ position: ShipPosition) throws {
        var record = Array(try JSONEncoder().encode(position))
        guard record.count < Self.recordLength else { throw FollowerError("a position longer than its record") }
        record += [UInt8](repeating: UInt8(ascii: " "), count: Self.recordLength - 1 - record.count) + [0x0A]
        let written = pwrite(descriptor, record, record.count, 0)
        guard written == record.count else {
            throw FollowerError("cannot save the position in \(path): \(String(cString: strerror(errno)))")
        }
        // A file longer than one record (an older format) would keep its tail.
        if lastSync == nil { ftruncate(descriptor, off_t(record.count)) }
        let now = ContinuousClock.now
        if lastSync.map({ now - $0 >= syncInterval }) ?? true {
            lastSync = now
            guard fdatasync(descriptor) == 0 else {
                throw FollowerError("cannot sync the position in \(path): \(String(cString: strerror(errno)))")
            }
        }
    }
}
