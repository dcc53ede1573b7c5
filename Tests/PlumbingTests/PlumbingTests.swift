import Foundation
import Plumbing
import Testing

/// The shared plumbing: timestamps, hashes and whole-file writes behave the same for every caller.
struct PlumbingTests {
    @Test(arguments: [
        (0.0, false, "1970-01-01T00:00:00Z"),
        (1_800_000_000.123, true, "2027-01-15T08:00:00.123Z"),
        (951_782_400.5, true, "2000-02-29T00:00:00.500Z"),
        (-1.0, false, "1969-12-31T23:59:59Z"),
    ])
    func rfc3339IsUTCWithOptionalMilliseconds(seconds: Double, milliseconds: Bool, expected: String) {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: seconds), milliseconds: milliseconds) == expected)
    }

    @Test func rfc3339AgreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let date = Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800, using: &generator)))
            #expect(RFC3339.string(from: date, milliseconds: false) == date.formatted(.iso8601))
        }
    }

    @Test func rfc3339ReadsBackWhatItWritesAndNothingElse() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            let milliseconds = Int64.random(in: -86_400_000...4_102_444_800_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            for withMilliseconds in [true, false] {
                let text = RFC3339.string(from: date, milliseconds: withMilliseconds)
                let read = RFC3339.date(from: text)
                #expect(read.map { RFC3339.string(from: $0, milliseconds: withMilliseconds) } == text)
                #expect(read.map { abs($0.timeIntervalSince(date)) < 1 } == true, "\(text)")
            }
        }
        for refused in [
            "", "2026-12-05", "2026-12-05T10:11:12", "2026-12-05T10:11:12+00:00", "2026-12-05T10:11:12.1Z",
            "2026-13-05T10:11:12Z", "2026-12-05T24:11:12Z", "2026-12-05T10:11:12ZZ", "2026-12-05 10:11:12Z",
            "+026-12-05T10:11:12Z",
        ] {
            #expect(RFC3339.date(from: refused) == nil, "\(refused)")
        }
    }

    @Test func contentHashIsStableAndFixedWidth() {
        #expect(ContentHash.of("") == "cbf29ce484222325")
        #expect(ContentHash.of("a") == "af63dc4c8601ec8c")
        var split = ContentHash()
        split.add("ab")
        split.add("c")
        #expect(split.hex == ContentHash.of("abc"))
        #expect(ContentHash.of("x").count == 16)
    }

    @Test func replaceWritesWholeFilesAndLeavesNoTemporary() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plumbing-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/policy.json"
        try DurableFile.replace(path, contents: Array("one".utf8))
        try DurableFile.replace(path, contents: Array("two".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["policy.json"])
    }

    @Test func createExclusivelyRefusesAnExistingFileAndSetsTheMode() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plumbing-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = "\(directory)/ca.key"
        try DurableFile.createExclusively(path, contents: Array("key".utf8), mode: 0o600, exactMode: true)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(throws: DurableFileError.self) {
            try DurableFile.createExclusively(path, contents: Array("other".utf8), mode: 0o600, exactMode: true)
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "key")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["ca.key"])
    }

    @Test func correlationIDsAreDistinctVersion4UUIDs() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.uuidString.dropFirst(14).first == "4" })
    }
}
