import Foundation

/// Sign-ins started and not yet finished, kept on the server: the browser holds only the attempt's random ID in a
/// short-lived cookie, so the `state` it returns with is checked against this browser's own attempt (no login CSRF),
/// and the PKCE verifier and nonce never leave the server.
actor SignInAttempts {
    struct Attempt: Sendable {
        let state: String
        let nonce: String
        let codeVerifier: String
        let redirectURI: String
        /// The console page to land on afterwards (always a `/console` path).
        let returnTo: String
        let startedAt: Date
    }

    /// How long a sign-in may take, as long as Entra keeps its own sign-in page.
    static let lifetime: TimeInterval = 600
    /// Attempts kept at once; the oldest give way, so abandoned sign-ins cannot fill memory.
    static let capacity = 1024

    private var attempts: [String: Attempt] = [:]

    func start(redirectURI: String, returnTo: String, now: Date = Date()) -> (id: String, attempt: Attempt) {
        attempts = attempts.filter { now.timeIntervalSince($0.value.startedAt) < Self.lifetime }
        if attempts.count >= Self.capacity, let oldest = attempts.min(by: { $0.value.startedAt < $1.value.startedAt }) {
            attempts[oldest.key] = nil
        }
        let attempt = Attempt(
            state: RandomToken.make(),
            nonce: RandomToken.make(),
            codeVerifier: RandomToken.make(),
            redirectURI: redirectURI,
            returnTo: returnTo,
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
