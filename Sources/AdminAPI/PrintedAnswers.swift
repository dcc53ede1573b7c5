import Foundation
import TenantPolicy

/// The JSON of the newest answers to the large GETs (a tenant's isolation policy, its rules), each kept with the
/// policy version it was printed from. GETs of one version share one print and one copy, instead of each printing
/// and holding its own until its client reads it: sixteen unread GETs of an 80,000-rule policy held 600 MiB
/// (review 32), and GETs that arrive together wait for the one print under way.
actor PrintedAnswers {
    struct Printed: Sendable {
        let json: Data
        let etag: String?
    }

    private struct Key: Hashable {
        let route: String
        let tenant: TenantID
    }

    /// Answers kept at once; past it one makes room (any: each costs one print to make again).
    static let capacity = 16
    private var printed: [Key: (version: String, print: Task<Printed, any Error>)] = [:]

    var keptCount: Int { printed.count }

    /// The answer for `route` and `tenant` printed from policy `version`, printed now when none of it is kept. A
    /// refusal (no such policy) is the version's answer too.
    func answer(
        _ route: String,
        tenant: TenantID,
        version: String,
        print: @escaping @Sendable () throws -> Printed
    ) async throws -> Printed {
        let key = Key(route: route, tenant: tenant)
        if let kept = printed[key], kept.version == version { return try await kept.print.value }
        if printed[key] == nil, printed.count >= Self.capacity { printed.remove(at: printed.startIndex) }
        let task = Task { try print() }
        printed[key] = (version, task)
        return try await task.value
    }
}
