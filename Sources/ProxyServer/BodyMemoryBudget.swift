import Synchronization

/// The bytes of request and response bodies the proxy may hold in memory at once, over every connection: each
/// body is capped on its own, but 10,000 connections times a mebibyte each is more memory than a pod has. Beyond
/// the budget a new body gets 503 (or its exchange fails), never an out-of-memory kill.
final class BodyMemoryBudget: Sendable {
    let limit: Int
    /// Why a body was refused, said alike by every side that holds bodies.
    static let refusal = "the proxy holds as many bodies in memory as it may; try again shortly"
    private let held = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        let after = held.wrappingAdd(bytes, ordering: .relaxed).newValue
        guard after <= limit else {
            held.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }

    func release(_ bytes: Int) {
        held.wrappingSubtract(bytes, ordering: .relaxed)
    }

    /// Bytes held now.
    var inUse: Int { held.load(ordering: .relaxed) }
}

/// One connection's share of the budget: what it took, given back at once when its body is done or it closes.
struct BodyReservation {
    let budget: BodyMemoryBudget
    private(set) var held = 0

    init(budget: BodyMemoryBudget) {
        self.budget = budget
    }

    mutating func take(_ bytes: Int) -> Bool {
        guard budget.reserve(bytes) else { return false }
        held += bytes
        return true
    }

    mutating func releaseAll() {
        budget.release(held)
        held = 0
    }
}
