import Foundation

/// The keys behind a JWKS URL, cached between fetches.
///
/// Fetches when the cache is older than the refresh interval, or early when a token names a `kid` the cache lacks
/// (Entra rolls keys over without notice). No fetch starts within the retry interval of the last one, so tokens with
/// made-up `kid`s cannot turn the admin API into a load generator; a failed fetch keeps the last good keys.
actor RemoteJWKS {
    typealias Fetch = @Sendable (URL) async throws(JWKSError) -> Data

    private let url: URL
    private let refreshInterval: TimeInterval
    private let retryInterval: TimeInterval
    private let fetch: Fetch
    private let reportFailure: @Sendable (JWKSError) -> Void
    private let now: @Sendable () -> Date

    private var current: TrustedKeys?
    /// When `current` was fetched.
    private var fetchedAt: Date?
    /// When the last fetch started, whether or not it succeeded.
    private var attemptedAt: Date?
    /// The fetch under way, which every caller that needs keys waits for instead of starting its own.
    private var inFlight: Task<Void, Never>?

    init(
        url: URL,
        refreshInterval: TimeInterval,
        retryInterval: TimeInterval,
        fetch: @escaping Fetch,
        reportFailure: @escaping @Sendable (JWKSError) -> Void,
        now: @escaping @Sendable () -> Date
    ) {
        self.url = url
        self.refreshInterval = refreshInterval
        self.retryInterval = retryInterval
        self.fetch = fetch
        self.reportFailure = reportFailure
        self.now = now
    }

    /// The keys to check a token naming `keyID` against, fetching first if they are missing or lack that key; keys
    /// held that name it answer at once, a refresh that is due going on meanwhile (review 56: a made-up `kid` sent by
    /// anyone started a fetch that every new maker token then waited for, up to its 10 s bound). Nil only while no
    /// fetch has ever succeeded.
    func keys(for keyID: String) async -> TrustedKeys? {
        if inFlight == nil, needsFetch(for: keyID) {
            attemptedAt = now()
            inFlight = Task { await fetchAndInstall() }
        }
        if let current, current.trusts(keyID: keyID) { return current }
        if let inFlight {
            await inFlight.value
        }
        return current
    }

    private func needsFetch(for keyID: String) -> Bool {
        let time = now()
        if let attemptedAt, time.timeIntervalSince(attemptedAt) < retryInterval { return false }
        guard let current, let fetchedAt else { return true }
        return time.timeIntervalSince(fetchedAt) >= refreshInterval || !current.trusts(keyID: keyID)
    }

    private func fetchAndInstall() async {
        defer { inFlight = nil }
        let source = url.absoluteString
        do throws(JWKSError) {
            let jwks = try JWKSSource.parse(try await fetch(url), source: source)
            current = try await TrustedKeys(jwks, source: source)
            fetchedAt = now()
        } catch {
            reportFailure(error)
        }
    }
}
