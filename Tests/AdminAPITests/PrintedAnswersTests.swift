import Foundation
import Synchronization
import TenantPolicy
import Testing

@testable import AdminAPI

/// GETs of one policy version share one print; a new version prints again; the kept answers stay few.
struct PrintedAnswersTests {
    static let contoso = TenantID("0da59725-89fe-4a2f-bf22-fd4536c9baac")!

    @Test func getsOfOneVersionShareOnePrint() async throws {
        let answers = PrintedAnswers()
        let prints = Atomic<Int>(0)
        let print: @Sendable () throws -> PrintedAnswers.Printed = {
            prints.add(1, ordering: .relaxed)
            return PrintedAnswers.Printed(json: Data(#"{"a":1}"#.utf8), etag: "\"e\"")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    _ = try await answers.answer("policy", tenant: Self.contoso, version: "v1", print: print)
                }
            }
            try await group.waitForAll()
        }
        #expect(prints.load(ordering: .relaxed) == 1)
        _ = try await answers.answer("policy", tenant: Self.contoso, version: "v2", print: print)
        _ = try await answers.answer("rules", tenant: Self.contoso, version: "v2", print: print)
        #expect(prints.load(ordering: .relaxed) == 3)
    }

    @Test func aRefusalIsTheVersionsAnswerAndTheKeptAnswersAreFew() async throws {
        struct Missing: Error {}
        let answers = PrintedAnswers()
        await #expect(throws: Missing.self) {
            try await answers.answer("policy", tenant: Self.contoso, version: "v1") { throw Missing() }
        }
        for index in 0..<(PrintedAnswers.capacity * 4) {
            let tenant = try #require(TenantID(String(format: "00000000-0000-4000-8000-%012d", index)))
            _ = try await answers.answer("policy", tenant: tenant, version: "v1") {
                PrintedAnswers.Printed(json: Data(), etag: nil)
            }
        }
        #expect(await answers.keptCount <= PrintedAnswers.capacity)
    }
}
