import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Each sink's acknowledged position, one small JSON file per sink in `--ship-state DIR`, replaced atomically and
/// synced (write, fsync, rename, fsync of the directory), so a kill -9 or a power cut leaves the last acknowledged
/// position or the one before it: at most one batch is sent again, never one skipped.
package struct ShipPositionStore: Sendable {
    package let directory: String

    package init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
    }

    package func load(sink: String) -> ShipPosition? {
        guard let data = FileManager.default.contents(atPath: file(sink)) else { return nil }
        return try? JSONDecoder().decode(ShipPosition.self, from: data)
    }

    package func save(_ position: ShipPosition, sink: String) throws {
        let data = try JSONEncoder().encode(position)
        let target = file(sink)
        let temporary = target + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw FollowerError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == data.count, synced == 0, rename(temporary, target) == 0 else {
            throw FollowerError("cannot save the position in \(target): \(String(cString: strerror(errno)))")
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private func file(_ sink: String) -> String { "\(directory)/\(sink).position.json" }
}
