import Foundation

/// Sign-ins started and not yet finished, kept on the server: the browser holds only the attempt's random ID in a
/// short-lived cookie, so the `state` it returns with is checked against this browser's own attempt (no login CSRF),
/// and the PKCE verifier and nonce never leave the server.
///
/// Bounded twice: `capacity` in all, and `perSource` for each client (an address; for IPv6, its /64, which one host
/// may hold whole), whose own oldest give way first. At capacity, the oldest attempt of the client with the most
/// gives way, never simply the oldest: a flood from many addresses (review 21: 129 of them, 8 each, in 0.7 s) then
/// evicts its own attempts, and reaches a real sign-in only with more clients than `capacity`.
actor SignInAttempts {
    struct Attempt: Sendable {
        let state: String
        let nonce: String
        let codeVerifier: String
        let redirectURI: String
        /// The console page to land on afterwards (always a `/console` path).
        let returnTo: String
        /// The client that started it (`client(of:)`).
        let client: String
        let startedAt: Date
    }

    /// How long a sign-in may take, as long as Entra keeps its own sign-in page.
    static let lifetime: TimeInterval = 600
    /// Attempts kept at once (a few hundred bytes each); abandoned sign-ins cannot fill memory.
    static let capacity = 4096
    /// Attempts one client may have going at once (a person signs in in a few tabs at most).
    static let perSource = 8

    private var attempts: [String: Attempt] = [:]

    func start(
        redirectURI: String,
        returnTo: String,
        source: String,
        now: Date = Date()
    ) -> (id: String, attempt: Attempt) {
        attempts = attempts.filter { now.timeIntervalSince($0.value.startedAt) < Self.lifetime }
        let client = Self.client(of: source)
        let mine = attempts.filter { $0.value.client == client }
        if mine.count >= Self.perSource, let oldest = mine.min(by: Self.oldestFirst) {
            attempts[oldest.key] = nil
        } else if attempts.count >= Self.capacity {
            let counts = Dictionary(grouping: attempts.values, by: \.client).mapValues(\.count)
            let most = counts.values.max()
            if let oldest = attempts.filter({ counts[$0.value.client] == most }).min(by: Self.oldestFirst) {
                attempts[oldest.key] = nil
            }
        }
        let attempt = Attempt(
            state: RandomToken.make(),
            nonce: RandomToken.make(),
            codeVerifier: RandomToken.make(),
            redirectURI: redirectURI,
            returnTo: returnTo,
            client: client,
            startedAt: now
        )
        let id = RandomToken.make()
        attempts[id] = attempt
        return (id, attempt)
    }

    private static func oldestFirst(
        _ first: Dictionary<String, Attempt>.Element,
        _ second: Dictionary<String, Attempt>.Element
    ) -> Bool {
        first.value.startedAt < second.value.startedAt
    }

    /// Who a client address stands for: an IPv4 address itself (also when mapped into IPv6), an IPv6 address's /64.
    static func client(of address: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "/64"
    }

    /// The attempt, once: a replayed callback finds nothing.
    func finish(id: String, now: Date = Date()) -> Attempt? {
        guard let attempt = attempts.removeValue(forKey: id),
            now.timeIntervalSince(attempt.startedAt) < Self.lifetime
        else { return nil }
        return attempt
    }
}
