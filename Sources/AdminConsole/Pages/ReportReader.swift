import AuditReport
import Dispatch
import Plumbing
import TenantPolicy

/// Builds the Report page's figures one at a time on a thread of their own, within a byte and time budget, so
/// reading an audit log never holds a thread of the cooperative pool (where the API, the health probes and
/// maker-token verification run); one more may wait its turn, and the rest are told to come back.
final class ReportReader: Sendable {
    enum Outcome {
        case built(CrossTenantReport, ReadCoverage)
        case unreadable(String)
        /// Reports are being built already.
        case busy
    }

    /// The newest 256 MiB of the log, read in at most 10 s.
    static let budget = ReadBudget(maxBytes: 256 << 20, maxDuration: .seconds(10))
    /// One being built and one waiting.
    static let maxInFlight = 2

    private let queue = DispatchQueue(label: "tenantgate.console.report", qos: .utility)
    private let inFlight = Locked(0)

    func report(of path: String, tenant: TenantID, since: String?) async -> Outcome {
        let admitted = inFlight.withLock { count in
            guard count < Self.maxInFlight else { return false }
            count += 1
            return true
        }
        guard admitted else { return .busy }
        return await withCheckedContinuation { continuation in
            queue.async {
                var builder = AuditReportBuilder(tenant: tenant, since: since)
                let outcome: Outcome
                do {
                    let coverage = try builder.add(file: path, budget: Self.budget)
                    outcome = .built(builder.build(source: path), coverage)
                } catch {
                    outcome = .unreadable("\(error)")
                }
                self.inFlight.withLock { $0 -= 1 }
                continuation.resume(returning: outcome)
            }
        }
    }
}
