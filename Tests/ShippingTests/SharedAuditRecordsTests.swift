import Foundation
import Testing

@testable import Shipping

/// Every sink reads every line, but each line is parsed once (`SharedAuditRecords`), and only while some sink has
/// yet to take it.
struct SharedAuditRecordsTests {
    private static func audit(_ lines: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("shared-\(UUID()).jsonl").path
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    private static func decision(_ id: Int) -> String {
        "{\"time\":\"2026-12-05T10:00:00.000Z\",\"decision\":\"allowed\",\"correlation_id\":\"c-\(id)\"}"
    }

    @Test func readersAtOneLineShareItsRecordAndItLeavesOnceAllHaveTakenIt() throws {
        let path = try Self.audit((0..<10).map(Self.decision))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let shared = SharedAuditRecords(readers: 3)
        let readers = (0..<3).map { _ in AuditFollower(path: path, position: nil) }
        let firstBatch = try readers[0].read(maxLines: 4, maxBytes: 1 << 20)
        let first = shared.records(for: firstBatch)
        #expect(first.map(\.correlationID) == ["c-0", "c-1", "c-2", "c-3"])
        #expect(shared.count == 4, "kept for the two readers still to come")
        // Another batching (more lines at once) still finds the lines by where they start.
        let second = shared.records(for: try readers[1].read(maxLines: 10, maxBytes: 1 << 20))
        #expect(second.map(\.correlationID) == (0..<10).map { "c-\($0)" })
        #expect(second[0].decision == "allowed")
        #expect(shared.count == 10)
        let third = shared.records(for: try readers[2].read(maxLines: 10, maxBytes: 1 << 20))
        #expect(third.map(\.correlationID) == (0..<10).map { "c-\($0)" })
        #expect(shared.count == 6, "the first reader has yet to take the last six")
        readers[0].commit(firstBatch.end)
        let rest = shared.records(for: try readers[0].read(maxLines: 10, maxBytes: 1 << 20))
        #expect(rest.map(\.correlationID) == (4..<10).map { "c-\($0)" })
        #expect(shared.count == 0, "every reader took every line")
    }

    @Test func aLineAtAKnownPlaceWithOtherBytesIsParsedAfresh() throws {
        let path = try Self.audit([Self.decision(1)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let shared = SharedAuditRecords(readers: 2)
        let batch = try AuditFollower(path: path, position: nil).read(maxLines: 10, maxBytes: 1 << 20)
        _ = shared.records(for: batch)
        // The same file and offset with another line in it (a reused inode, say): never the kept record.
        var changed = batch
        changed.lines = [Data(Self.decision(2).utf8)]
        #expect(shared.records(for: changed).map(\.correlationID) == ["c-2"])
    }

    @Test func aReaderThatFallsBehindDoesNotHoldMoreThanTheCapacity() throws {
        let path = try Self.audit((0..<100).map(Self.decision))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let shared = SharedAuditRecords(readers: 2, capacity: 10)
        let ahead = AuditFollower(path: path, position: nil)
        while true {
            let batch = try ahead.read(maxLines: 7, maxBytes: 1 << 20)
            if batch.lines.isEmpty { break }
            _ = shared.records(for: batch)
            ahead.commit(batch.end)
            #expect(shared.count <= 10)
        }
        // The reader behind (a sink in an outage) reads the early lines again, parsed anew.
        let behind = try AuditFollower(path: path, position: nil).read(maxLines: 100, maxBytes: 1 << 20)
        #expect(shared.records(for: behind).map(\.correlationID) == (0..<100).map { "c-\($0)" })
    }
}
