import Foundation
import TenantPolicy

/// How much of a log one reading may take (the console's Report runs beside live traffic).
package struct ReadBudget: Sendable {
    package var maxBytes: Int
    package var maxDuration: Duration

    package init(maxBytes: Int, maxDuration: Duration) {
        self.maxBytes = maxBytes
        self.maxDuration = maxDuration
    }
}

/// How much of a log a budgeted reading covered.
package enum ReadCoverage: Equatable, Sendable {
    case whole
    /// The file was larger than the budget: its last `bytes`, from the first whole line.
    case lastBytes(Int)
    /// The time ran out before the end.
    case stoppedAfter(Duration)
}

/// Aggregates audit lines into a `CrossTenantReport`, one line at a time, so logs of millions of lines are read
/// with memory bounded by the number of tenant pairs (client IDs are capped per pair).
package struct AuditReportBuilder {
    private let tenantFilter: TenantID?
    private let since: String?
    private var counts = LineCounts()
    private var pairs: [TenantPair: PairStatistics] = [:]
    private var unenforced: [String: PairStatistics] = [:]

    /// - Parameters:
    ///   - tenant: only traffic in which this tenant is the creator or the sign-in tenant.
    ///   - since: an RFC 3339 UTC prefix (e.g. `2026-11-01T00:00:00`); earlier lines are left out.
    package init(tenant: TenantID? = nil, since: String? = nil) {
        self.tenantFilter = tenant
        self.since = since
    }

    package mutating func add(line: some Collection<UInt8>) {
        guard !line.isEmpty else { return }
        counts.read += 1
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
            let decision = object["decision"] as? String
        else {
            counts.malformed += 1
            return
        }
        let time = object["time"] as? String
        if let since, let time, time < since {
            counts.other += 1
            return
        }
        let creator = (object["creator_tenant"] as? String).flatMap { TenantID($0) }
        let signIn = (object["sign_in_tenant"] as? String).flatMap { TenantID($0) }
        let clientID = (object["client_id"] as? String).map { String($0.prefix(100)) }
        if let tenantFilter, creator != tenantFilter, signIn != tenantFilter {
            counts.other += 1
            return
        }
        switch decision {
        case "unenforced":
            counts.unenforced += 1
            let host = (object["host"] as? String).map { String($0.prefix(253)) } ?? "(unknown host)"
            unenforced[host, default: PairStatistics()].add(decision: decision, time: time, clientID: clientID)
        case "allowed", "blocked", "would_block":
            guard let creator, let signIn else {
                counts.other += 1
                return
            }
            if creator == signIn {
                counts.sameTenant += 1
                return
            }
            counts.crossTenant += 1
            pairs[TenantPair(creator: creator, signIn: signIn), default: PairStatistics()]
                .add(
                    decision: decision,
                    time: time,
                    clientID: clientID,
                    onResourceHost: object["event"] as? String == "resource_access"
                )
        default:
            counts.other += 1
        }
    }

    /// Reads a file (or a pipe: the command line may read one) in 1 MiB chunks and adds each line.
    package mutating func add(file path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw AuditReportError("cannot read the audit log \(path)")
        }
        defer { try? handle.close() }
        try add(handle, until: nil)
    }

    /// Reads at most the last `budget.maxBytes` of a regular file, for at most `budget.maxDuration`, and adds each
    /// whole line; says how much was read. A pipe, socket or terminal is refused without reading from it (it would
    /// block, and take lines meant for its reader), as is anything that cannot be opened at once.
    package mutating func add(file path: String, budget: ReadBudget) throws -> ReadCoverage {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw AuditReportError("cannot read the audit log \(path): \(String(cString: strerror(errno)))")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw AuditReportError(
                "the audit log \(path) is not a regular file (a pipe, socket or terminal, such as /dev/stdout): "
                    + "a report needs a file to read; write the audit log to a file to use it"
            )
        }
        let size = Int(status.st_size)
        var skipped = 0
        if size > budget.maxBytes {
            skipped = size - budget.maxBytes
            try handle.seek(toOffset: UInt64(skipped))
        }
        let started = ContinuousClock.now
        let finished = try add(handle, until: started + budget.maxDuration, dropFirstLine: skipped > 0)
        if !finished { return .stoppedAfter(budget.maxDuration) }
        return skipped > 0 ? .lastBytes(budget.maxBytes) : .whole
    }

    /// Adds every line to the end, or until `deadline`: false when the deadline stopped it.
    @discardableResult
    private mutating func add(
        _ handle: FileHandle,
        until deadline: ContinuousClock.Instant?,
        dropFirstLine: Bool = false
    ) throws -> Bool {
        var carry: [UInt8] = []
        var dropping = dropFirstLine
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            var start = chunk.startIndex
            for index in chunk.indices where chunk[index] == UInt8(ascii: "\n") {
                if dropping {
                    dropping = false
                    carry.removeAll(keepingCapacity: true)
                } else if carry.isEmpty {
                    add(line: chunk[start..<index])
                } else {
                    carry += chunk[start..<index]
                    add(line: carry)
                    carry.removeAll(keepingCapacity: true)
                }
                start = chunk.index(after: index)
            }
            carry += chunk[start...]
            if let deadline, ContinuousClock.now >= deadline { return false }
        }
        if !carry.isEmpty, !dropping { add(line: carry) }
        return true
    }

    package func build(source: String, generatedAt: Date = Date()) -> CrossTenantReport {
        var tenantIDs = Set<TenantID>()
        for pair in pairs.keys {
            tenantIDs.insert(pair.creator)
            tenantIDs.insert(pair.signIn)
        }
        if let tenantFilter { tenantIDs = tenantIDs.filter { $0 == tenantFilter } }
        let sections = tenantIDs.sorted().map { tenant in section(for: tenant) }
        return CrossTenantReport(
            source: source,
            generatedAt: generatedAt,
            counts: counts,
            tenants: sections,
            unenforced: unenforced.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            pairs: pairs
        )
    }

    private func section(for tenant: TenantID) -> CrossTenantReport.TenantSection {
        var connections: [CrossTenantReport.Connection] = []
        var needed: [TenantID: DirectionSet] = [:]
        for (pair, stats) in pairs {
            let keepsWorking = stats.decisions["allowed", default: 0] + stats.decisions["would_block", default: 0] > 0
            if pair.creator == tenant {
                connections.append(.init(connectionType: .outbound, tenantID: pair.signIn, stats: stats))
                if keepsWorking { needed[pair.signIn, default: []].insert(.outbound) }
            }
            if pair.signIn == tenant {
                connections.append(.init(connectionType: .inbound, tenantID: pair.creator, stats: stats))
                if keepsWorking { needed[pair.creator, default: []].insert(.inbound) }
            }
        }
        connections.sort { ($0.connectionType, $0.tenantID) < ($1.connectionType, $1.tenantID) }
        let rules = needed.sorted { $0.key < $1.key }.map { (tenant: $0.key, directions: $0.value) }
        return .init(tenantID: tenant, connections: connections, suggestedRules: rules)
    }
}

/// A report that cannot be made (unreadable log, bad option), as one sentence.
package struct AuditReportError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
