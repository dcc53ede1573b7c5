import Foundation

/// Sign-ins started and not yet finished, kept on the server: the browser holds only the attempt's random ID in a
/// short-lived cookie, so the `state` it returns with is checked against this browser's own attempt (no login CSRF),
/// and the PKCE verifier and nonce never leave the server.
///
/// Bounded twice: `capacity` in all, and `perSource` for each client address, whose own oldest give way first, so
/// that one address flooding `/console/signin` evicts only its own attempts, not the real sign-ins of others.
actor SignInAttempts {
    struct Attempt: Sendable {
        let state: String
        let nonce: String
        let codeVerifier: String
        let redirectURI: String
        /// The console page to land on afterwards (always a `/console` path).
        let returnTo: String
        /// The client address that started it.
        let source: String
        let startedAt: Date
    }

    /// How long a sign-in may take, as long as Entra keeps its own sign-in page.
    static let lifetime: TimeInterval = 600
    /// Attempts kept at once; the oldest give way, so abandoned sign-ins cannot fill memory.
    static let capacity = 1024
    /// Attempts one client address may have going at once (a person signs in in a few tabs at most).
    static let perSource = 8

    private var attempts: [String: Attempt] = [:]

    func start(
        redirectURI: String,
        returnTo: String,
        source: String,
        now: Date = Date()
    ) -> (id: String, attempt: Attempt) {
        attempts = attempts.filter { now.timeIntervalSince($0.value.startedAt) < Self.lifetime }
        let oldestFirst: (Dictionary<String, Attempt>.Element, Dictionary<String, Attempt>.Element) -> Bool = {
            $0.value.startedAt < $1.value.startedAt
        }
        let mine = attempts.filter { $0.value.source == source }
        if mine.count >= Self.perSource, let oldest = mine.min(by: oldestFirst) {
            attempts[oldest.key] = nil
        } else if attempts.count >= Self.capacity, let oldest = attempts.min(by: oldestFirst) {
            attempts[oldest.key] = nil
        }
        let attempt = Attempt(
            state: RandomToken.make(),
            nonce: RandomToken.make(),
            codeVerifier: RandomToken.make(),
            redirectURI: redirectURI,
            returnTo: returnTo,
            source: source,
            startedAt: now
        )
        let id = RandomToken.make()
        attempts[id] = attempt
        return (id, attempt)
    }

    /// The attempt, once: a replayed callback finds nothing.
    func finish(id: String, now: Date = Date()) -> Attempt? {
        guard let attempt = attempts.removeValue(forKey: id),
            now.timeIntervalSince(attempt.startedAt) < Self.lifetime
        else { return nil }
        return attempt
    }
}
