import NetworkPolicy
import Plumbing
import Synchronization

/// The bytes of request and response bodies the proxy may hold in memory at once, over every connection: each
/// body is capped on its own, but 10,000 connections times a mebibyte each is more memory than a pod has. Beyond
/// the budget a new body gets 503 (or its exchange fails), never an out-of-memory kill.
///
/// A client address holds at most `clientShare` of it, in its request bodies and the answers gathered for it: else one
/// client that opened a few hundred sessions and left each body a few bytes short (or asked a server that stalls a
/// byte short of each answer) held the whole budget, and every other client's exchange got 503.
final class BodyMemoryBudget: Sendable {
    let limit: Int
    /// The most body bytes one client address may hold (an eighth of the budget, and at least one whole body of the
    /// largest size).
    let clientShare: Int
    /// Why a body was refused, said alike by every side that holds bodies.
    static let refusal = "the proxy holds as many bodies in memory as it may; try again shortly"
    private let held = Atomic<Int>(0)
    private let heldByClient = Locked<[IPAddress: Int]>([:])

    init(limit: Int, largestBody: Int = 0) {
        self.limit = limit
        self.clientShare = max(limit / 8, min(largestBody, limit))
    }

    /// Takes `bytes` from the budget, and from `client`'s share when the bytes are held for a client; false (and
    /// nothing taken) when they do not fit.
    func reserve(_ bytes: Int, for client: IPAddress? = nil) -> Bool {
        guard bytes > 0 else { return true }
        guard let client else { return reserveShared(bytes) }
        return heldByClient.withLock { heldByClient in
            let mine = heldByClient[client, default: 0]
            guard mine + bytes <= clientShare, reserveShared(bytes) else { return false }
            heldByClient[client] = mine + bytes
            return true
        }
    }

    func release(_ bytes: Int, for client: IPAddress? = nil) {
        guard bytes > 0 else { return }
        held.wrappingSubtract(bytes, ordering: .relaxed)
        guard let client else { return }
        heldByClient.withLock { heldByClient in
            let left = heldByClient[client, default: bytes] - bytes
            heldByClient[client] = left > 0 ? left : nil
        }
    }

    /// Bytes held now.
    var inUse: Int { held.load(ordering: .relaxed) }

    private func reserveShared(_ bytes: Int) -> Bool {
        let after = held.wrappingAdd(bytes, ordering: .relaxed).newValue
        guard after <= limit else {
            held.wrappingSubtract(bytes, ordering: .relaxed)
            return false
        }
        return true
    }
}

/// One connection's share of the budget: what it took, given back at once when its body is done or it closes.
struct BodyReservation {
    let budget: BodyMemoryBudget
    /// Whose bodies these are; nil for bytes held for no client, which count against the budget alone.
    let client: IPAddress?
    private(set) var held = 0

    init(budget: BodyMemoryBudget, client: IPAddress? = nil) {
        self.budget = budget
        self.client = client
    }

    mutating func take(_ bytes: Int) -> Bool {
        guard budget.reserve(bytes, for: client) else { return false }
        held += bytes
        return true
    }

    /// Gives back `bytes` of what it took (at most all of it).
    mutating func release(_ bytes: Int) {
        let given = min(bytes, held)
        budget.release(given, for: client)
        held -= given
    }

    mutating func releaseAll() {
        release(held)
    }
}
